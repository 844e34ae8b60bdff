import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/store/outbox.js';
import { alert, firing, Harness } from './harness.js';

/**
 * Issue 8 (2): after a long Slack outage the outbox must not wait out a minutes-long backoff. Slack fails for
 * 120 s (500s, then 429 with Retry-After, then dropped connections) with a restart of headwatch in the middle;
 * every queued alert must be in Slack within 10 s of Slack answering again, once each, in order.
 * Injected clock: 1 s steps, each running whatever became due.
 */
let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('recovery after a 120 s Slack outage', () => {
  it('delivers every queued alert within 10 s of recovery, exactly once, in order, across a restart', async () => {
    h = await new Harness({ config: { HEADWATCH_GROUP_WAIT: 1000, HEADWATCH_GROUP_INTERVAL: 5000, HEADWATCH_CHANNEL_BUDGET: 100 } }).start();
    const t0 = h.now;
    const at = () => (h.now - t0) / 1000;
    const nodes = ['node-a', 'node-b', 'node-c', 'node-d'].map((n) => alert('node-offline', n));
    const fireAt = new Map([[5, nodes[0]!], [30, nodes[1]!], [55, nodes[2]!], [95, nodes[3]!]]);
    const deliveredAt = new Map<string, number>();
    let restarted = false;

    h.fakeSlack.fail({ kind: 'status', status: 500, times: 100_000 });
    while (at() < 200) {
      const s = at();
      if (s === 40) {
        h.fakeSlack.heal();
        h.fakeSlack.fail({ kind: 'ratelimit', retryAfterSec: 7, times: 100_000 });
      }
      if (s === 60 && !restarted) {
        restarted = true;
        await h.restart();
      }
      if (s === 80) {
        h.fakeSlack.heal();
        h.fakeSlack.fail({ kind: 'drop', when: 'before', times: 100_000 });
      }
      if (s === 120) h.fakeSlack.heal();
      const a = fireAt.get(s);
      if (a) h.dispatcher.handle(firing(a, h.now));
      await h.advance(1000);
      for (const m of h.slackPosts()) {
        const subject = /node-[a-d]/.exec(m.text)?.[0];
        if (subject && !deliveredAt.has(subject)) deliveredAt.set(subject, at());
      }
      if (deliveredAt.size === nodes.length) break;
    }

    // Nothing got through while Slack failed, and the outage was real on every kind of fault.
    expect(Math.min(...deliveredAt.values())).toBeGreaterThan(120);
    const faults = h.fakeSlack.calls.filter((c) => c.fault).map((c) => c.fault);
    expect(new Set(faults)).toEqual(new Set(['status', 'ratelimit', 'drop']));
    // Every queued alert within 10 s of recovery.
    expect(deliveredAt.size).toBe(4);
    expect(Math.max(...deliveredAt.values()) - 120).toBeLessThanOrEqual(10);
    // Once each, in firing order.
    const posts = h.slackPosts().map((m) => /node-[a-d]/.exec(m.text)?.[0]);
    expect(posts).toEqual(['node-a', 'node-b', 'node-c', 'node-d']);
    expect(new Outbox(h.store).all().filter((r) => r.status !== 'sent')).toEqual([]);
  });

  it('honours Retry-After exactly, even when the platform reconnects in between', async () => {
    h = await new Harness({ config: { HEADWATCH_GROUP_WAIT: 0, HEADWATCH_CHANNEL_BUDGET: 100 } }).start();
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'ratelimit', retryAfterSec: 12 });
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'status', status: 502 });
    h.dispatcher.handle(firing(alert('node-offline', 'node-r'), h.now));
    await h.advance(0);
    const limitedAt = h.now;
    expect(h.fakeSlack.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.status)).toEqual([429]);
    // Slack drops and comes back (a wake signal for the lane), but the Retry-After still holds.
    const note = { fallback: 'x', tone: 'info' as const, blocks: [] };
    await expect(h.slack!.send('C0OTHER', note)).rejects.toThrow(/502/);
    expect(h.slack!.status().connected).toBe(false);
    await h.advance(0);
    await h.slack!.send('C0OTHER', note);
    expect(h.slack!.status().connected).toBe(true);
    for (let s = 1; s < 12; s++) {
      await h.advance(1000);
      expect(h.slackPosts().filter((m) => m.text.includes('node-r'))).toHaveLength(0);
    }
    await h.advance(1000);
    expect(h.now - limitedAt).toBe(12_000);
    expect(h.slackPosts().filter((m) => m.text.includes('node-r'))).toHaveLength(1);
  });
});
