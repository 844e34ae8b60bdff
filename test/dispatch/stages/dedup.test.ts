import { afterEach, describe, expect, it } from 'vitest';
import { logEntry } from '../../../src/dispatch/stages/content.js';
import { dedupStage } from '../../../src/dispatch/stages/dedup.js';
import type { Notification } from '../../../src/dispatch/stages/types.js';
import { alert, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

const decide = (n: Notification) => dedupStage.run(rig.flush(SLACK), [n]).map((x) => x.action);

describe('dedup stage: against what this lane was told', () => {
  it('says new, update, resolve, firing again, repeat (when due) — or nothing', () => {
    rig = new Rig();
    const a = alert('node-offline', 'node-1');
    expect(decide({ change: 'firing', alert: a })).toEqual(['new']);
    // a resolution of something never announced, and the same content again, say nothing
    expect(decide({ change: 'resolved', alert: { ...a, status: 'resolved' } })).toEqual([]);
    rig.parts.log.put(logEntry(SLACK, a, rig.now, 'alert:node-offline:node-1:1', false));
    expect(decide({ change: 'updated', alert: a })).toEqual([]);
    expect(decide({ change: 'updated', alert: { ...a, summary: 'offline for 10 min' } })).toEqual(['update']);
    expect(decide({ change: 'repeat', alert: a })).toEqual([]); // not yet repeat_interval
    rig.now += 3_600_000;
    expect(decide({ change: 'repeat', alert: a })).toEqual(['repeat']);
    expect(decide({ change: 'resolved', alert: { ...a, status: 'resolved' } })).toEqual(['resolve']);
    rig.parts.log.put(logEntry(SLACK, { ...a, status: 'resolved' }, rig.now, 'alert:node-offline:node-1:1', false));
    expect(decide({ change: 'firing', alert: a })).toEqual(['refire']);
    expect(rig.suppressed).toEqual({ deduplicated: 3 });
  });

  it('hands on what the log said, for the stages after it', () => {
    rig = new Rig();
    const a = alert('node-offline', 'node-2');
    rig.parts.log.put(logEntry(SLACK, a, rig.now, 'digest:5', true));
    const [n] = dedupStage.run(rig.flush(SLACK), [{ change: 'updated', alert: { ...a, summary: 'still' } }]);
    expect(n).toMatchObject({ action: 'update', log: { refKey: 'digest:5', folded: true } });
  });
});
