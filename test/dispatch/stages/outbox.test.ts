import { afterEach, describe, expect, it } from 'vitest';
import { logEntry } from '../../../src/dispatch/stages/content.js';
import { outboxStage, SENDER_BATCH } from '../../../src/dispatch/stages/outbox.js';
import type { Notification } from '../../../src/dispatch/stages/types.js';
import { alert, CONSOLE, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

describe('outbox stage: what was decided, written durably', () => {
  it('chat: posts new alerts, edits changed ones, notes changes in the thread, and old digests’ lines last', () => {
    rig = new Rig();
    const a = alert('node-offline', 'node-1');
    const b = alert('cpu-sustained', 'headscale');
    const logB = logEntry(SLACK, b, rig.now - 5000, 'alert:b', false);
    const batch: Notification[] = [
      { change: 'repeat', alert: b, action: 'repeat', oldDigest: { refKey: 'digest:1', line: 'still firing: x' } },
      { change: 'firing', alert: a, action: 'new' },
      { change: 'updated', alert: { ...b, summary: 'CPU 99 %' }, action: 'update', log: logB },
      { change: 'resolved', alert: { ...b, status: 'resolved' }, action: 'resolve', log: logB },
      { change: 'repeat', alert: b, action: 'repeat', oldDigest: { refKey: 'digest:1', line: 'still firing: y' } },
    ];
    outboxStage.run(rig.flush(SLACK), batch);
    const rows = rig.rows(SLACK);
    expect(rows.map((r) => [r.op, r.ref])).toEqual([
      ['post', 'alert:node-offline:node-1'],
      ['edit', 'alert:b'],
      ['edit', 'alert:b'],
      ['reply', 'alert:b'],
      ['reply', 'digest:1'],
    ]);
    expect(rows[0]!.text).toContain('silence:node-offline:node-1:1h');
    expect(rows[3]!.text).toContain('resolved: cpu-sustained · headscale');
    expect(rows[4]!.text).toContain('still firing: x\\nstill firing: y');
    expect(rig.parts.log.get(SLACK.key, 'node-offline:node-1')).toMatchObject({ refKey: `alert:node-offline:node-1:${rig.now}`, folded: false, notifiedAt: rig.now });
    expect(rig.parts.log.get(SLACK.key, 'cpu-sustained:headscale')).toMatchObject({ status: 'resolved', notifiedAt: rig.now });
  });

  it('an update keeps the time the alert was last announced (repeats count from there)', () => {
    rig = new Rig();
    const b = alert('cpu-sustained', 'headscale');
    outboxStage.run(rig.flush(SLACK), [{ change: 'updated', alert: b, action: 'update', log: logEntry(SLACK, b, rig.now - 5000, 'alert:b', false) }]);
    expect(rig.parts.log.get(SLACK.key, b.fingerprint)!.notifiedAt).toBe(rig.now - 5000);
  });

  it('console/webhook: one batch of state changes and repeats (no evidence updates), split every SENDER_BATCH alerts', () => {
    rig = new Rig();
    const many: Notification[] = Array.from({ length: SENDER_BATCH + 5 }, (_, i) => ({ change: 'firing', alert: alert('node-offline', `n${i}`), action: 'new' }));
    many.push({ change: 'updated', alert: alert('cpu-sustained', 'headscale'), action: 'update' });
    outboxStage.run(rig.flush(CONSOLE), many);
    const rows = rig.parts.outbox.all(CONSOLE.key);
    expect(rows.map((r) => [r.op, (r.payload as unknown[]).length])).toEqual([['alerts', SENDER_BATCH], ['alerts', 5]]);
    expect(rig.parts.log.get(CONSOLE.key, 'cpu-sustained:headscale')).toMatchObject({ status: 'firing', refKey: null });
  });
});
