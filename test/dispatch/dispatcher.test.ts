import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_ID } from '../fakes/discord/server.js';
import { alert, firing, Harness, resolved, SLACK_CHANNEL, text, updated } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('Dispatcher: grouping, in-place updates, threads', () => {
  it('waits group_wait for chat, then posts each alert once to Slack and Discord; the console gets each change at once', async () => {
    h = await new Harness({ discord: true }).start();
    const a = alert('node-flapping', 'node-1', { severity: 'critical' });
    const b = alert('node-flapping', 'node-2');
    h.dispatcher.handle(firing(a, h.now));
    await h.advance(0);
    // machine destinations do not wait for the group: the first change goes out immediately
    expect(h.sender.batches.map((x) => x.map((y) => y.subject))).toEqual([['node-1']]);
    await h.advance(100);
    h.dispatcher.handle(firing(b, h.now));
    await h.advance(0);
    expect(h.slackPosts()).toHaveLength(0); // still inside group_wait
    // a second change right after the last console send waits for the next (short) batch
    expect(h.sender.batches).toHaveLength(1);
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('node-1'), expect.stringContaining('node-2')]);
    expect(text(h.slackPosts()[0]!.blocks)).toContain('silence:node-flapping:node-1:1h');
    const discordPosts = h.fakeDiscord.channelMessages(CHANNEL_ID);
    expect(discordPosts).toHaveLength(2);
    expect(discordPosts[0]!.embeds[0]!['color']).toBe(0xd92d20); // critical
    expect(h.sender.batches.map((x) => x.map((y) => y.subject))).toEqual([['node-1'], ['node-2']]);

    // the same transition again (e.g. the lifecycle replaying after a restart) is de-duplicated
    h.dispatcher.handle(updated(a, h.now));
    await h.advance(20_000);
    expect(h.slackPosts()).toHaveLength(2);
    expect(h.slackPosts()[0]!.edits).toBe(0);
    expect(h.dispatcher.status().suppressed.deduplicated).toBeGreaterThanOrEqual(1);
  });

  it('edits the original message when an alert changes or resolves, notes it in the thread, and never posts again', async () => {
    h = await new Harness({ discord: true }).start();
    const a = alert('cpu-sustained', 'headscale', { evidence: ['cpu 97 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await h.advance(1000);
    const [post] = h.slackPosts();
    h.dispatcher.handle(updated(a, h.now, { summary: 'CPU 99 % for 3 min', evidence: ['cpu 99 %'] }));
    // The message exists: the change edits it at once, not after group_interval (issue 12 part 1).
    await h.advance(1000);
    expect(post!.edits).toBe(1);
    expect(post!.text).toContain('CPU 99 %');

    h.dispatcher.handle(resolved({ ...a, summary: 'CPU back to 12 %' }, h.now));
    await h.advance(10_000);
    expect(h.slackPosts()).toHaveLength(1);
    expect(post!.edits).toBe(2);
    expect(post!.text).toContain('RESOLVED');
    expect(text(post!.blocks)).not.toContain('silence:'); // no silence button on a resolved alert
    expect(h.fakeSlack.threadReplies(post!.ts).map((m) => m.text)).toEqual([expect.stringContaining('resolved')]);
    const [dpost] = h.fakeDiscord.channelMessages(CHANNEL_ID);
    expect(dpost!.edits).toBe(2);
    expect(dpost!.embeds[0]!['color']).toBe(0x12b76a);
    expect(h.fakeDiscord.threadMessages(dpost!.id)).toHaveLength(1);
    expect(h.sender.batches.map((b) => b[0]!.status)).toEqual(['firing', 'resolved']);

    // a flap back to firing edits the same message and says so in the thread
    h.dispatcher.handle(firing({ ...a, occurrences: 2 }, h.now));
    await h.advance(10_000);
    expect(h.slackPosts()).toHaveLength(1);
    expect(post!.text).not.toContain('RESOLVED');
    expect(h.fakeSlack.threadReplies(post!.ts).at(-1)!.text).toContain('firing again');
  });

  it('repeats a still-firing alert in its thread after repeat_interval, not in the channel', async () => {
    h = await new Harness({ config: { HEADWATCH_REPEAT_INTERVAL: 60_000 } }).start();
    h.dispatcher.handle(firing(alert('node-offline', 'node-9'), h.now));
    await h.advance(1000);
    await h.advance(30_000);
    const [post] = h.slackPosts();
    expect(h.fakeSlack.threadReplies(post!.ts)).toHaveLength(0);
    await h.advance(31_000); // repeat becomes due
    await h.advance(11_000); // next group flush
    expect(h.slackPosts()).toHaveLength(1);
    expect(h.fakeSlack.threadReplies(post!.ts).map((m) => m.text)).toEqual([expect.stringContaining('still firing')]);
    expect(h.sender.batches).toHaveLength(2);
  });

  it('routes by HEADWATCH_ROUTES: critical flapping to Slack, everything to the console', async () => {
    h = await new Harness({ config: { HEADWATCH_ROUTES: 'kind=node-flapping,severity=critical->slack,console;*->console' } }).start();
    h.dispatcher.handle(firing(alert('node-flapping', 'n1', { severity: 'critical' }), h.now));
    h.dispatcher.handle(firing(alert('node-flapping', 'n2', { severity: 'warning' }), h.now));
    h.dispatcher.handle(firing(alert('version-skew', 'n3'), h.now));
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('n1')]);
    expect(h.sender.batches.flat().map((a) => a.subject).sort()).toEqual(['n1', 'n2', 'n3']);
  });
});

describe('Dispatcher: per-channel budget and storm digest', () => {
  it('folds overflow into one self-updating digest with details in its thread, then goes back to single messages', async () => {
    h = await new Harness({ config: { HEADWATCH_CHANNEL_BUDGET: 3 } }).start();
    const flappers = Array.from({ length: 6 }, (_, i) => alert('node-flapping', `node-${i}`));
    for (const a of flappers) h.dispatcher.handle(firing(a, h.now));
    h.dispatcher.handle(firing(alert('ratelimit-flood', 'headscale', { labels: { count: '1200' } }), h.now));
    await h.advance(1000);
    const posts = h.slackPosts();
    expect(posts).toHaveLength(1); // more new alerts than the budget: everything folds into the digest
    expect(posts[0]!.text).toContain('Alert storm');
    expect(posts[0]!.text).toMatch(/6 nodes flapping, RATELIMIT ×1,200 in/);
    const details = h.fakeSlack.threadReplies(posts[0]!.ts);
    expect(details).toHaveLength(1);
    expect(details[0]!.text.split('\n')).toHaveLength(7);

    // more alerts and a resolution during the storm: one edit per group interval, details in the thread
    h.dispatcher.handle(firing(alert('node-flapping', 'node-6'), h.now));
    h.dispatcher.handle(resolved(flappers[0]!, h.now));
    await h.advance(5_000);
    expect(posts[0]!.edits).toBe(0);
    await h.advance(6_000);
    expect(posts[0]!.edits).toBe(1);
    expect(posts[0]!.text).toMatch(/6 nodes flapping/); // 7 folded, 1 resolved
    expect(h.fakeSlack.threadReplies(posts[0]!.ts).at(-1)!.text).toMatch(/firing: node-flapping · node-6[\s\S]*resolved: node-flapping · node-0/);
    expect(h.slackPosts()).toHaveLength(1);

    // a quiet group interval ends the storm; the next alert gets its own message again
    await h.advance(11_000);
    await h.advance(11_000);
    expect(posts[0]!.text).toContain('Alert storm over');
    h.dispatcher.handle(firing(alert('cpu-sustained', 'headscale'), h.now));
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('Alert storm over'), expect.stringContaining('cpu-sustained')]);
    expect(h.dispatcher.status().suppressed.folded).toBeGreaterThanOrEqual(8);
  });
});

describe('Dispatcher: inhibition and silences', () => {
  it('holds back node alerts while Headscale is unreachable, counts them, and sends those still firing afterwards', async () => {
    h = await new Harness().start();
    const hs = alert('headscale-unreachable', 'headscale', { severity: 'critical' });
    h.dispatcher.handle(firing(hs, h.now));
    for (let i = 0; i < 5; i++) h.dispatcher.handle(firing(alert('node-offline', `node-${i}`), h.now));
    h.dispatcher.handle(firing(alert('cpu-sustained', 'tailscale'), h.now));
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('headscale-unreachable'), expect.stringContaining('cpu-sustained')]);
    // counted per notification held back: 5 alerts × 2 destinations (Slack, console)
    expect(h.dispatcher.status().suppressed.inhibited).toBe(10);
    expect(await h.metrics.registry.getSingleMetricAsString('headwatch_notifications_suppressed_total')).toMatch(/reason="inhibited"} 10/);

    // nodes 0-2 recover during the outage; 3-4 stay offline
    for (let i = 0; i < 3; i++) h.dispatcher.handle(resolved(alert('node-offline', `node-${i}`), h.now));
    h.dispatcher.handle(resolved(hs, h.now));
    await h.advance(11_000);
    const texts = h.slackPosts().map((m) => m.text);
    expect(texts.filter((t) => t.includes('node-offline'))).toEqual([expect.stringContaining('node-3'), expect.stringContaining('node-4')]);
  });

  it('does not post silenced alerts (counted instead); silences can be listed and expired', async () => {
    h = await new Harness().start();
    const s = h.dispatcher.silences.create({ matcher: 'kind', value: 'version-skew', createdBy: 'slack:U1', durationMs: 3_600_000, reason: 'upgrade tonight' });
    h.dispatcher.silences.create({ matcher: 'subject', value: 'node-7', createdBy: 'slack:U1', durationMs: 60_000 });
    h.dispatcher.handle(firing(alert('version-skew', 'node-1'), h.now));
    h.dispatcher.handle(firing(alert('node-offline', 'node-7'), h.now));
    h.dispatcher.handle(firing(alert('node-offline', 'node-8'), h.now));
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('node-8')]);
    expect(h.dispatcher.status().suppressed.silenced).toBe(4); // 2 alerts × (Slack, console)
    expect(h.dispatcher.silences.list().map((x) => x.value)).toEqual(['version-skew', 'node-7']);

    expect(h.dispatcher.silences.expire(s.id.slice(0, 8))?.expiredAt).toBe(h.now);
    h.now += 61_000; // the subject silence runs out by itself
    expect(h.dispatcher.silences.list()).toEqual([]);
    h.dispatcher.handle(updated(alert('version-skew', 'node-1'), h.now, { summary: 'still skewed' }));
    await h.advance(11_000);
    expect(h.slackPosts().map((m) => m.text)).toContain(h.slackPosts().find((m) => m.text.includes('still skewed'))?.text);
    expect(() => h.dispatcher.silences.create({ matcher: 'kind', value: 'x', createdBy: 'y', durationMs: 0 })).toThrow(/between 1 second and 30 days/);
  });

  it('"Silence 1h" on a Slack message silences the alert, tells the clicker privately and marks the message', async () => {
    h = await new Harness().start();
    // Silencing needs the same role as `/headscale silence` (before the fix anyone could, with no role lists).
    h.routeInteractions({ HEADWATCH_OPERATORS: 'slack:U0BOB' });
    // drive the click through the signed HTTP endpoint, as Slack would
    const { createServer } = await import('node:http');
    const server = createServer(h.slack!.httpHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { postSigned, signRequest } = await import('../fakes/slack/server.js');
    try {
      const a = alert('node-flapping', 'node-12');
      h.dispatcher.handle(firing(a, h.now));
      await h.advance(1000);
      const [post] = h.slackPosts();
      const payload = h.fakeSlack.buttonPayload({ actionId: 'silence:node-flapping:node-12:1h', messageTs: post!.ts, userId: 'U0BOB', userName: 'bob' });
      const port = (server.address() as { port: number }).port;
      const res = await postSigned(`http://127.0.0.1:${port}/slack/events`, signRequest('s', { payload: JSON.stringify(payload) }));
      expect(res.status).toBe(200);
      await h.fakeSlack.waitFor(() => h.fakeSlack.responses.length === 1);
      expect(h.fakeSlack.responses[0]!.body).toMatchObject({ response_type: 'ephemeral' });
      expect(String(h.fakeSlack.responses[0]!.body['text'])).toContain('Silenced node-flapping:node-12');
      expect(h.dispatcher.silences.list()).toMatchObject([{ matcher: 'fingerprint', value: 'node-flapping:node-12', createdBy: 'slack:U0BOB', expiresAt: h.now + 3_600_000 }]);
      await h.advance(0);
      expect(post!.text).toContain('node-12');
      expect(text(post!.blocks)).toContain('Silenced by bob');

      // further notifications for it are held back while the silence lasts
      h.dispatcher.handle(resolved(a, h.now));
      h.dispatcher.handle(firing({ ...a, occurrences: 2 }, h.now));
      await h.advance(11_000);
      expect(h.fakeSlack.threadReplies(post!.ts)).toHaveLength(0);
      expect(h.dispatcher.status().suppressed.silenced).toBeGreaterThanOrEqual(1);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('Dispatcher: silence button on Discord', () => {
  it('a click arriving over the gateway silences the alert, answers ephemerally and marks the embed', async () => {
    h = await new Harness({ slack: false, discord: true }).start();
    h.routeInteractions({ HEADWATCH_OPERATORS: 'discord:1200000000000000007' });
    h.dispatcher.handle(firing(alert('cpu-sustained', 'tailscale-1', { severity: 'critical' }), h.now));
    await h.advance(1000);
    const [post] = h.fakeDiscord.channelMessages(CHANNEL_ID);
    const customId = 'silence:cpu-sustained:tailscale-1:1h';
    expect(JSON.stringify(post!.components)).toContain(customId);

    // someone who is not an operator is told so, and nothing is silenced
    const denied = h.fakeDiscord.clickButton({ messageId: post!.id, customId, userId: '1200000000000000008' });
    await h.fakeDiscord.waitFor(() => h.fakeDiscord.callbacksFor(denied).length === 1);
    expect(JSON.stringify(h.fakeDiscord.callbacksFor(denied)[0]!.data)).toContain('Only operators');
    expect(h.dispatcher.silences.list()).toEqual([]);

    const ok = h.fakeDiscord.clickButton({ messageId: post!.id, customId, userId: '1200000000000000007', userName: 'carol' });
    await h.fakeDiscord.waitFor(() => h.fakeDiscord.callbacksFor(ok).length === 1);
    expect(h.fakeDiscord.callbacksFor(ok)[0]).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(h.dispatcher.silences.list()).toMatchObject([{ value: 'cpu-sustained:tailscale-1', createdBy: 'discord:1200000000000000007' }]);
    await h.advance(0);
    expect(JSON.stringify(post!.embeds)).toContain('Silenced by carol');
    expect(h.fakeDiscord.channelMessages(CHANNEL_ID)).toHaveLength(1);
  });
});

describe('Dispatcher: self-monitoring', () => {
  it('reports a Discord outage on Slack after a while and resolves it when Discord is back', async () => {
    h = await new Harness({ discord: true, platformDownAfterMs: 30_000 }).start();
    await h.advance(0);
    expect(await h.metrics.registry.getSingleMetricAsString('headwatch_dependency_up')).toMatch(/dependency="discord"} 1/);
    h.fakeDiscord.refuseGateway = true; // the gateway goes away and stays away
    h.fakeDiscord.closeGateway(4000);
    await h.fakeDiscord.waitFor(() => !h.discord!.status().connected);
    await h.advance(1000);
    expect(h.dispatcher.status().platforms.find((p) => p.platform === 'discord')).toMatchObject({ connected: false });
    expect(h.slackPosts()).toHaveLength(0);
    await h.advance(30_000);
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('platform-down')]);
    expect(h.fakeDiscord.channelMessages(CHANNEL_ID)).toHaveLength(0);
    expect(await h.metrics.registry.getSingleMetricAsString('headwatch_dependency_up')).toMatch(/dependency="discord"} 0/);

    h.fakeDiscord.refuseGateway = false;
    await h.fakeDiscord.waitFor(() => h.discord!.status().connected, 15_000);
    await h.advance(11_000);
    await h.advance(1000);
    expect(h.slackPosts()).toHaveLength(1);
    expect(h.slackPosts()[0]!.text).toContain('RESOLVED');
  });

  it('resolves a platform-down that was still firing when headwatch restarted, once the platform answers', async () => {
    h = await new Harness({ discord: true, platformDownAfterMs: 30_000 }).start();
    await h.advance(0);
    h.fakeDiscord.refuseGateway = true;
    h.fakeDiscord.closeGateway(4000);
    await h.fakeDiscord.waitFor(() => !h.discord!.status().connected);
    await h.advance(1000);
    await h.advance(31_000);
    await h.advance(1000);
    expect(h.slackPosts().map((m) => m.text)).toEqual([expect.stringContaining('platform-down')]);

    // headwatch restarts; Discord is back by the time it comes up
    h.fakeDiscord.refuseGateway = false;
    await h.restart();
    await h.advance(1000);
    await h.advance(11_000);
    expect(h.slackPosts()).toHaveLength(1);
    expect(h.slackPosts()[0]!.text).toContain('RESOLVED');
    expect(h.dispatcher.status().platforms.find((p) => p.platform === 'discord')).not.toHaveProperty('downForMs');
  });
});
