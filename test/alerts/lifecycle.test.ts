import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlertLifecycle } from '../../src/alerts/lifecycle.js';
import type { AlertDraft } from '../../src/alerts/model.js';
import { Store } from '../../src/store/db.js';
import { AlertRepository } from '../../src/store/alerts.js';

const draft: AlertDraft = { fingerprint: 'node-flapping:7', kind: 'node-flapping', severity: 'warning', subject: 'nas-01 (id 7)', summary: 'flapping', evidence: ['line 1'] };

describe('AlertLifecycle on a real SQLite file', () => {
  it('fires, updates, resolves, and a restart neither forgets nor re-announces a firing alert', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'hw-lc-')), 'hw.db');
    let store = new Store(path);
    let lc = new AlertLifecycle(new AlertRepository(store));
    expect(lc.apply({ action: 'fire', alert: draft }, 1000)?.change).toBe('firing');
    expect(lc.apply({ action: 'update', alert: { ...draft, summary: 'worse' } }, 2000)?.change).toBe('updated');
    store.close();

    store = new Store(path);
    lc = new AlertLifecycle(new AlertRepository(store));
    expect(lc.firing().map((a) => [a.fingerprint, a.summary])).toEqual([['node-flapping:7', 'worse']]);
    // the detector fires again after restart: an update, not a second announcement
    expect(lc.apply({ action: 'fire', alert: draft }, 3000)?.change).toBe('updated');
    const resolved = lc.apply({ action: 'resolve', fingerprint: 'node-flapping:7', summary: 'stable' }, 4000);
    expect(resolved?.change).toBe('resolved');
    expect(resolved?.alert.endsAt).toBe(new Date(4000).toISOString());
    expect(lc.apply({ action: 'resolve', fingerprint: 'node-flapping:7' }, 5000)).toBeUndefined();
    const again = lc.apply({ action: 'fire', alert: draft }, 6000);
    expect(again?.change).toBe('firing');
    expect(again?.alert.occurrences).toBe(2);
    store.close();
  });

  it('ignores an update for an alert that is not firing', () => {
    const store = new Store(':memory:');
    const lc = new AlertLifecycle(new AlertRepository(store));
    expect(lc.apply({ action: 'update', alert: draft }, 1)).toBeUndefined();
    store.close();
  });
});
