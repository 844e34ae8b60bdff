import { afterEach, describe, expect, it } from 'vitest';
import { logEntry } from '../../../src/dispatch/stages/content.js';
import { digestStage, maintainDigest } from '../../../src/dispatch/stages/digest.js';
import type { Notification } from '../../../src/dispatch/stages/types.js';
import { alert, CONSOLE, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

const news = (n: number): Notification[] => Array.from({ length: n }, (_, i) => ({ change: 'firing', alert: alert('node-flapping', `node-${i}`), action: 'new' }));

describe('digest stage: the channel budget and the storm digest', () => {
  it('lets new alerts within the budget through to be posted, and console/webhook batches untouched', () => {
    rig = new Rig();
    expect(digestStage.run(rig.flush(SLACK), news(3)).map((n) => n.action)).toEqual(['new', 'new', 'new']);
    expect(rig.parts.digests.get(SLACK.key)).toBeUndefined();
    expect(digestStage.run(rig.flush(CONSOLE), news(50))).toHaveLength(50);
  });

  it('folds everything new into one digest once the budget would be exceeded; the storm then holds single edits back', () => {
    rig = new Rig();
    expect(digestStage.run(rig.flush(SLACK), news(4))).toEqual([]);
    const d = rig.parts.digests.get(SLACK.key)!;
    expect(d).toMatchObject({ active: true, posted: false, dirty: true });
    expect(rig.parts.log.digestCounts(SLACK.key, d.refKey)).toEqual([{ kind: 'node-flapping', firing: 4, resolved: 0, weight: 0 }]);
    expect(rig.parts.digests.takeNotes(SLACK.key, d.refKey)).toHaveLength(4);
    expect(rig.suppressed).toEqual({ folded: 4 });

    // an alert with its own message: its content-only update waits while the storm lasts; its resolution goes on
    const own = alert('cpu-sustained', 'headscale');
    const log = logEntry(SLACK, own, rig.now, 'alert:cpu', false);
    const out = digestStage.run(rig.flush(SLACK), [
      { change: 'updated', alert: { ...own, summary: 'CPU 99 %' }, action: 'update', log },
      { change: 'resolved', alert: { ...own, status: 'resolved' }, action: 'resolve', log },
    ]);
    expect(out.map((n) => n.action)).toEqual(['resolve']);
    expect(rig.suppressed).toEqual({ folded: 5 });
  });

  it('turns changes of folded alerts into digest lines: the live digest’s thread, or an old digest’s; re-firing after the storm posts anew', () => {
    rig = new Rig();
    digestStage.run(rig.flush(SLACK), news(4));
    const live = rig.parts.digests.get(SLACK.key)!;
    rig.parts.digests.takeNotes(SLACK.key, live.refKey);
    const folded = alert('node-flapping', 'node-0');
    const inLive = logEntry(SLACK, folded, rig.now, live.refKey, true);
    expect(digestStage.run(rig.flush(SLACK), [{ change: 'resolved', alert: { ...folded, status: 'resolved' }, action: 'resolve', log: inLive }])).toEqual([]);
    expect(rig.parts.digests.takeNotes(SLACK.key, live.refKey)).toEqual([expect.stringContaining('resolved: node-flapping · node-0')]);

    const inOld = logEntry(SLACK, folded, rig.now, 'digest:1', true);
    const [line] = digestStage.run(rig.flush(SLACK), [{ change: 'repeat', alert: folded, action: 'repeat', log: inOld }]);
    expect(line!.oldDigest).toEqual({ refKey: 'digest:1', line: expect.stringContaining('still firing: node-flapping · node-0') });

    rig.parts.digests.put({ ...live, active: false });
    const resolvedInOld = logEntry(SLACK, { ...folded, status: 'resolved' }, rig.now, 'digest:1', true);
    expect(digestStage.run(rig.flush(SLACK), [{ change: 'firing', alert: folded, action: 'refire', log: resolvedInOld }]).map((n) => n.action)).toEqual(['new']);
  });

  it('maintainDigest posts the digest once, edits it at most once per group interval, and ends the storm after a quiet one', () => {
    rig = new Rig();
    digestStage.run(rig.flush(SLACK), news(4));
    const step = () => {
      const d = rig.parts.digests.get(SLACK.key)!;
      maintainDigest(rig.parts, d, rig.now);
    };
    step();
    expect(rig.rows(SLACK).map((r) => r.op)).toEqual(['post', 'reply']);
    expect(rig.rows(SLACK)[0]!.text).toContain('4 nodes flapping');
    rig.now += 5000;
    digestStage.run(rig.flush(SLACK), news(6).slice(4));
    step(); // changed, but edited only once per interval
    expect(rig.rows(SLACK)).toHaveLength(2);
    rig.now += 5000;
    step();
    expect(rig.rows(SLACK).map((r) => r.op)).toEqual(['post', 'reply', 'edit', 'reply']);
    expect(rig.rows(SLACK)[2]!.text).toContain('Alert storm · 6 nodes flapping');
    rig.now += 10_000;
    step();
    expect(rig.rows(SLACK)[4]!.text).toContain('Alert storm over');
    expect(rig.parts.digests.get(SLACK.key)!.active).toBe(false);
  });
});
