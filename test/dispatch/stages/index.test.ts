import { afterEach, describe, expect, it } from 'vitest';
import { NOTIFY_STAGES, runFlush } from '../../../src/dispatch/stages/index.js';
import type { Stage } from '../../../src/dispatch/stages/types.js';
import { alert, Rig, SLACK } from './rig.js';

let rig: Rig;
afterEach(() => rig?.close());

describe('the notification path', () => {
  it('is these stages, in this order', () => {
    expect(NOTIFY_STAGES.map((s) => s.name)).toEqual(['group', 'silence', 'inhibit', 'dedup', 'digest', 'outbox']);
  });

  it('runs a queued change through to the outbox, and stops as soon as a stage leaves nothing', () => {
    rig = new Rig();
    rig.parts.alerts.save(alert('node-offline', 'node-1'));
    rig.parts.queue.add(SLACK.key, 'node-offline:node-1', 'node-offline', 'firing', rig.now);
    runFlush(rig.flush(SLACK));
    expect(rig.rows(SLACK).map((r) => r.op)).toEqual(['post']);

    const seen: string[] = [];
    const spy = (name: string, keep: boolean): Stage => ({ name, run: (_f, b) => (seen.push(name), keep ? b : []) });
    rig.parts.queue.add(SLACK.key, 'node-offline:node-1', 'node-offline', 'updated', rig.now);
    runFlush(rig.flush(SLACK), [NOTIFY_STAGES[0]!, spy('a', false), spy('b', true)]);
    expect(seen).toEqual(['a']);
  });
});
