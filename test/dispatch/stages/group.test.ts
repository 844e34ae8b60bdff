import { afterEach, describe, expect, it } from 'vitest';
import { groupStage, GroupSchedule, SENDER_BATCH_MS } from '../../../src/dispatch/stages/group.js';
import { alert, CONSOLE, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

describe('group stage', () => {
  it('takes the group’s queued changes oldest first, as the alerts are now, and leaves other groups alone', () => {
    rig = new Rig();
    const q = rig.parts.queue;
    for (const s of ['node-1', 'node-2']) rig.parts.alerts.save(alert('node-offline', s));
    rig.parts.alerts.save(alert('cpu-sustained', 'headscale'));
    q.add(SLACK.key, 'node-offline:node-2', 'node-offline', 'firing', rig.now);
    q.add(SLACK.key, 'node-offline:node-1', 'node-offline', 'firing', rig.now + 1);
    q.add(SLACK.key, 'cpu-sustained:headscale', 'cpu-sustained', 'firing', rig.now);
    // a repeat never overrides the real change waiting for the same alert
    q.add(SLACK.key, 'node-offline:node-2', 'node-offline', 'repeat', rig.now + 2);
    rig.parts.alerts.save(alert('node-offline', 'node-2', { summary: 'offline for 5 min' }));
    const batch = groupStage.run(rig.flush(SLACK, 'node-offline'), []);
    expect(batch.map((n) => [n.alert.subject, n.change, n.alert.summary])).toEqual([
      ['node-2', 'firing', 'offline for 5 min'],
      ['node-1', 'firing', 'node-offline on node-1'],
    ]);
    expect(groupStage.run(rig.flush(SLACK, 'node-offline'), [])).toEqual([]);
    expect(q.groupFlushes()).toEqual([{ lane: SLACK.key, group: 'node-offline', at: rig.now }]);
    expect(q.pendingGroups()).toEqual([{ lane: SLACK.key, group: 'cpu-sustained', first: rig.now }]);
  });
});

describe('GroupSchedule', () => {
  const timing = { groupWaitMs: 1000, groupIntervalMs: 10_000, repeatIntervalMs: 60_000 };

  it('chat: due group_wait after the first change, then group_interval after the last flush', () => {
    rig = new Rig();
    const s = new GroupSchedule(rig.parts.queue, rig.parts.log, timing);
    s.queued(SLACK.key, 'node-offline', rig.now);
    s.queued(SLACK.key, 'node-offline', rig.now + 500); // group_wait runs from the first change
    expect(s.dueAt(SLACK, 'node-offline')).toBe(rig.now + 1000);
    expect(s.dueGroups(rig.now + 999, () => SLACK)).toEqual([]);
    expect(s.dueGroups(rig.now + 1000, () => SLACK)).toEqual([{ lane: SLACK.key, group: 'node-offline' }]);
    s.flushing(SLACK.key, 'node-offline', rig.now + 1000);
    s.queued(SLACK.key, 'node-offline', rig.now + 2000);
    expect(s.dueAt(SLACK, 'node-offline')).toBe(rig.now + 11_000);
  });

  it('console and webhook: at once, then batched every SENDER_BATCH_MS', () => {
    rig = new Rig();
    const s = new GroupSchedule(rig.parts.queue, rig.parts.log, timing);
    s.queued(CONSOLE.key, 'node-offline', rig.now);
    expect(s.dueAt(CONSOLE, 'node-offline')).toBe(rig.now);
    s.flushing(CONSOLE.key, 'node-offline', rig.now);
    s.queued(CONSOLE.key, 'node-offline', rig.now + 50);
    expect(s.dueAt(CONSOLE, 'node-offline')).toBe(rig.now + SENDER_BATCH_MS);
  });

  it('is rebuilt from the queue after a restart, and queues repeats of what was last said repeat_interval ago', () => {
    rig = new Rig();
    rig.parts.queue.add(SLACK.key, 'node-offline:node-1', 'node-offline', 'firing', rig.now);
    rig.parts.queue.setGroupFlush(SLACK.key, 'cpu-sustained', rig.now - 5000);
    const s = new GroupSchedule(rig.parts.queue, rig.parts.log, timing);
    expect(s.dueAt(SLACK, 'node-offline')).toBe(rig.now + 1000);
    rig.parts.log.put({ lane: SLACK.key, fingerprint: 'cpu-sustained:headscale', kind: 'cpu-sustained', status: 'firing', refKey: 'alert:x', folded: false, notifiedAt: rig.now - 60_000, contentHash: 'h', weight: 0 });
    s.queueRepeats(rig.now);
    expect(rig.parts.queue.takeGroup(SLACK.key, 'cpu-sustained')).toEqual([{ fingerprint: 'cpu-sustained:headscale', change: 'repeat' }]);
    expect(s.dueAt(SLACK, 'cpu-sustained')).toBe(rig.now + 5000); // group_interval after that earlier flush
  });
});
