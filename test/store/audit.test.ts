import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { AuditLog, GENESIS_HASH } from '../../src/store/audit.js';

let dir: string;
let store: Store;
let log: AuditLog;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-audit-'));
  store = new Store(join(dir, 'a.db'));
  log = new AuditLog(store, () => Date.parse('2026-11-26T10:00:00Z'));
  for (let i = 0; i < 5; i++) log.append({ actor: `slack:U${i}`, event: 'requested', command: 'delete-node', requestId: i, detail: { n: i } });
});
afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('audit log hash chain', () => {
  it('links every row to the previous one and verifies', () => {
    const rows = log.last(5).reverse();
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(log.verify()).toEqual({ ok: true, rows: 5 });
  });

  it('refuses UPDATE and DELETE', () => {
    expect(() => store.db.prepare(`UPDATE audit_log SET actor = 'slack:EVIL' WHERE seq = 2`).run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
    expect(log.verify().ok).toBe(true);
  });

  it('shows an edited row once the triggers are dropped', () => {
    store.db.exec('DROP TRIGGER audit_log_no_update');
    store.db.prepare(`UPDATE audit_log SET actor = 'slack:EVIL' WHERE seq = 3`).run();
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'row contents do not match its hash' });
  });

  it('shows a removed middle row and a forged replacement', () => {
    store.db.exec('DROP TRIGGER audit_log_no_delete');
    store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run();
    expect(log.verify()).toMatchObject({ ok: false, brokenAt: 3, reason: 'row 2 is missing' });
    // Re-inserting a made-up row 2 with a recomputed own hash still breaks the link to row 3.
    const r1 = log.last(10).find((r) => r.seq === 1)!;
    store.db
      .prepare(`INSERT INTO audit_log (seq, at, actor, actor_name, event, command, request_id, detail, prev_hash, hash) VALUES (2, ?, 'slack:EVIL', NULL, 'approved', NULL, NULL, '{}', ?, 'x')`)
      .run(r1.at, r1.hash);
    expect(log.verify().ok).toBe(false);
  });

  it('masks secrets that slip into details', () => {
    const key = `hskey-auth-abcdefghijkl-${'z'.repeat(64)}`;
    log.append({ actor: 'headwatch', event: 'failed', detail: { error: `boom ${key}` } });
    expect(JSON.stringify(log.last(1)[0]!.detail)).not.toContain(key);
    expect(log.verify().ok).toBe(true);
  });
});
