import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/model.js';
import { adviceFor } from '../../src/alerts/kinds.js';
import type { Destination } from '../../src/destinations/destination.js';
import { PlatformHealth } from '../../src/dispatch/platform-health.js';
import { quietLogger } from '../adapters/helpers.js';

/** A chat destination of a platform headwatch has never heard of: its name and settings come from the destination. */
function destination(connected: () => boolean): Destination {
  return {
    name: 'matrix',
    displayName: 'Matrix',
    kind: 'chat',
    defaultChannel: '!room',
    channelSetting: 'MATRIX_ROOM',
    credentialSettings: ['MATRIX_TOKEN'],
    notify: async () => ({ ok: true }),
    // `since` moves on a reconnect, as the adapters' connection state does.
    status: () => ({ connected: connected(), since: connected() ? 65_000 : 0 }),
  };
}

describe('PlatformHealth', () => {
  it('reports a platform down after the wait with advice naming its own settings, resolves it when it is back, and wakes its lanes', () => {
    let up = false;
    const recorded: { alert: Alert; change: string; exclude: string }[] = [];
    const woken: string[] = [];
    const health = new PlatformHealth({
      destinations: [destination(() => up)],
      logger: quietLogger(),
      downAfterMs: 60_000,
      wake: (name) => woken.push(name),
      record: (alert, change, exclude) => recorded.push({ alert, change, exclude }),
    });
    health.check(1_000);
    health.check(30_000);
    expect(recorded).toEqual([]);
    health.check(61_000);
    expect(recorded).toHaveLength(1);
    const [down] = recorded;
    expect(down).toMatchObject({ change: 'firing', exclude: 'matrix', alert: { kind: 'platform-down', subject: 'matrix', status: 'firing' } });
    expect(down!.alert.summary).toContain('Matrix has been unreachable for 1 min');
    expect(adviceFor(down!.alert).text).toBe('Check the network from headwatch to Matrix and the token (MATRIX_TOKEN); queued alerts are delivered when it is back.');
    expect(health.downForMs('matrix', 61_000)).toBe(60_000);

    up = true;
    health.check(70_000);
    expect(recorded[1]).toMatchObject({ change: 'resolved', alert: { kind: 'platform-down', status: 'resolved' } });
    expect(woken).toEqual(['matrix']);
    expect(health.downForMs('matrix', 70_000)).toBeUndefined();
  });
});
