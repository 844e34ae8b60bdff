import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_ID } from '../fakes/discord/server.js';
import { alert, firing, Harness, updated } from './harness.js';

/**
 * Edits stay within the platforms' published limits, through the real Bolt and discord.js clients: the fakes
 * enforce Discord's per-channel edit bucket (5 per 5 s, announced in X-RateLimit-* headers) and Slack's Tier 3
 * chat.update limit (50 per minute per workspace) and answer 429 to anything over. headwatch paces its edits so
 * that neither ever has to.
 */
const CONFIG = { HEADWATCH_GROUP_WAIT: 30_000, HEADWATCH_GROUP_INTERVAL: 300_000, HEADWATCH_EDIT_INTERVAL: 10_000, HEADWATCH_CHANNEL_BUDGET: 100 };
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Largest number of times in any window of `windowMs` (times sorted). */
function maxPerWindow(times: number[], windowMs: number): number {
  return times.reduce((m, t, i) => Math.max(m, times.slice(i).filter((u) => u < t + windowMs).length), 0);
}

describe('edits within the platforms’ limits', () => {
  it('60 alert messages changing at once are edited without a 429: ≤ 5 per 5 s in the Discord channel, ≤ 1/s and ≤ 50/min on Slack', async () => {
    h = await new Harness({ discord: true, config: CONFIG }).start();
    h.fakeDiscord.editBucket = { limit: 5, resetAfterMs: 5_000, clock: h.clock };
    h.fakeSlack.updateTier = { perMinute: 50, clock: h.clock };
    const alerts = Array.from({ length: 60 }, (_, i) => alert('container-down', `app-${i}`, { evidence: ['exited 1'] }));
    for (const a of alerts) h.dispatcher.handle(firing(a, h.now));
    for (let s = 0; s < 31; s++) await h.advance(1000);
    // discord.js holds whatever goes over Discord's global 50 requests a second on a real timer (the gateway login
    // counts too), so the last first posts wait in the outbox for up to a real second: they are sent then, once.
    const realDeadline = Date.now() + 10_000;
    while (h.fakeDiscord.channelMessages(CHANNEL_ID).length < 60 && Date.now() < realDeadline) {
      await new Promise((r) => setTimeout(r, 200));
      await h.advance(1000);
    }
    expect(h.slackPosts()).toHaveLength(60);
    expect(h.fakeDiscord.channelMessages(CHANNEL_ID)).toHaveLength(60);
    expect(h.fakeDiscord.calls.filter((c) => c.method === 'POST' && c.path === `/channels/${CHANNEL_ID}/messages`)).toHaveLength(60);

    const changedAt = h.now;
    for (const a of alerts) h.dispatcher.handle(updated(a, h.now, { summary: `${a.subject} restarted 3 times`, evidence: ['exited 137'] }));
    const slackEdits: number[] = [];
    const discordEdits: number[] = [];
    let slackSeen = h.fakeSlack.calls.length;
    let discordSeen = h.fakeDiscord.calls.length;
    const done = () => h!.slackPosts().every((m) => m.text.includes('restarted 3 times')) && h!.fakeDiscord.channelMessages(CHANNEL_ID).every((m) => m.edits > 0);
    for (let s = 0; s < 180 && !done(); s++) {
      // 25 real ms a simulated second keeps the Discord requests under discord.js's real-time 50 a second.
      await new Promise((r) => setTimeout(r, 25));
      await h.advance(1000);
      for (; slackSeen < h.fakeSlack.calls.length; slackSeen++) if (h.fakeSlack.calls[slackSeen]!.method === 'chat.update') slackEdits.push(h.now);
      for (; discordSeen < h.fakeDiscord.calls.length; discordSeen++) {
        const c = h.fakeDiscord.calls[discordSeen]!;
        if (c.method === 'PATCH' && c.path.startsWith(`/channels/${CHANNEL_ID}/messages/`)) discordEdits.push(h.now);
      }
    }
    expect(done()).toBe(true);
    // Nothing was ever refused: the pacing kept under both limits on its own.
    expect(h.fakeDiscord.rateLimited).toHaveLength(0);
    expect(h.fakeSlack.rateLimited).toHaveLength(0);
    expect(discordEdits).toHaveLength(60);
    expect(slackEdits).toHaveLength(60);
    expect(maxPerWindow(discordEdits, 5_000)).toBeLessThanOrEqual(5);
    expect(maxPerWindow(slackEdits, 1_000)).toBeLessThanOrEqual(1);
    expect(maxPerWindow(slackEdits, 60_000)).toBeLessThanOrEqual(50);
    // …and the last change still reached everyone within a couple of minutes.
    expect(Math.max(...slackEdits, ...discordEdits) - changedAt).toBeLessThanOrEqual(120_000);
  }, 120_000);

  it('discord.js reads the bucket headers: with a tighter bucket than we pace for, no edit is sent over it and all arrive', async () => {
    h = await new Harness({ discord: true, config: CONFIG }).start();
    // 2 edits per real second: discord.js learns it from the headers and holds the third request itself.
    h.fakeDiscord.editBucket = { limit: 2, resetAfterMs: 1_000, clock: Date.now };
    const alerts = Array.from({ length: 6 }, (_, i) => alert('container-down', `web-${i}`));
    for (const a of alerts) h.dispatcher.handle(firing(a, h.now));
    for (let s = 0; s < 31; s++) await h.advance(1000);
    for (const a of alerts) h.dispatcher.handle(updated(a, h.now, { summary: `${a.subject} is back` }));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && !h.fakeDiscord.channelMessages(CHANNEL_ID).every((m) => m.edits > 0)) {
      await h.advance(1000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(h.fakeDiscord.channelMessages(CHANNEL_ID).every((m) => m.edits === 1)).toBe(true);
    expect(h.fakeDiscord.rateLimited).toHaveLength(0);
  }, 120_000);
});
