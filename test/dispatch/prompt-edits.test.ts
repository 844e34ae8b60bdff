import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_ID } from '../fakes/discord/server.js';
import { alert, firing, Harness, resolved, updated } from './harness.js';

/**
 * Issue 12 part 1, through the real Bolt and discord.js clients against the fakes, with the default timings
 * (group wait 30 s, group interval 5 min, edit interval 10 s): a CPU alert that resolves shortly after its post
 * is shown RESOLVED in both channels within the group wait, not five minutes later.
 */
const DEFAULTS = { HEADWATCH_GROUP_WAIT: 30_000, HEADWATCH_GROUP_INTERVAL: 300_000, HEADWATCH_EDIT_INTERVAL: 10_000 };
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function steps(seconds: number): Promise<void> {
  for (let s = 0; s < seconds; s++) await h!.advance(1000);
}

describe('in-place changes are prompt', () => {
  it('a resolve edits the Slack and Discord message within the group wait, not after the group interval', async () => {
    h = await new Harness({ discord: true, config: DEFAULTS }).start();
    const a = alert('cpu-sustained', 'headscale', { severity: 'critical', evidence: ['cpu 97 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    const [post] = h.slackPosts();
    const [dpost] = h.fakeDiscord.channelMessages(CHANNEL_ID);
    expect(post!.text).toContain('CRITICAL');
    h.dispatcher.handle(resolved(a, h.now));
    const resolvedAt = h.now;
    let slackAt: number | undefined;
    let discordAt: number | undefined;
    for (let s = 0; s < 30 && (slackAt === undefined || discordAt === undefined); s++) {
      await h.advance(1000);
      if (slackAt === undefined && post!.text.includes('RESOLVED')) slackAt = h.now;
      if (discordAt === undefined && dpost!.edits > 0) discordAt = h.now;
    }
    expect(slackAt! - resolvedAt).toBeLessThanOrEqual(30_000);
    expect(discordAt! - resolvedAt).toBeLessThanOrEqual(30_000);
    expect(dpost!.embeds[0]!['color']).toBe(0x12b76a);
    expect(h.slackPosts()).toHaveLength(1);
  });

  it('edits one message at most once per edit interval; the last state always arrives', async () => {
    h = await new Harness({ config: DEFAULTS }).start();
    const a = alert('cpu-sustained', 'headscale', { evidence: ['cpu 90 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    const [post] = h.slackPosts();
    const editTimes: number[] = [];
    let seen = 0;
    for (let s = 0; s < 40; s++) {
      h.dispatcher.handle(updated(a, h.now, { summary: `CPU ${90 + (s % 9)} % (${s})`, evidence: [`cpu ${s}`] }));
      await h.advance(1000);
      if (post!.edits > seen) {
        seen = post!.edits;
        editTimes.push(h.now);
      }
    }
    await steps(11);
    expect(post!.text).toContain('(39)');
    const gaps = editTimes.slice(1).map((t, i) => t - editTimes[i]!);
    expect(editTimes.length).toBeGreaterThanOrEqual(3);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10_000);
  });

  it('new alerts still wait for the group: a second alert of the kind is not posted before the group interval', async () => {
    h = await new Harness({ config: DEFAULTS }).start();
    const a = alert('node-offline', 'node-1');
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    expect(h.slackPosts()).toHaveLength(1);
    h.dispatcher.handle(resolved(a, h.now));
    h.dispatcher.handle(firing(alert('node-offline', 'node-2'), h.now));
    await steps(20);
    expect(h.slackPosts()[0]!.text).toContain('RESOLVED');
    expect(h.slackPosts()).toHaveLength(1); // node-2 waits for the group interval
    await h.advance(300_000);
    expect(h.slackPosts()).toHaveLength(2);
  });
});

describe('edit pacing survives a restart', () => {
  it('a message edited just before a restart is not edited again until its edit interval has passed', async () => {
    h = await new Harness({ config: DEFAULTS }).start();
    const a = alert('cpu-sustained', 'headscale', { evidence: ['cpu 90 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    const [post] = h.slackPosts();
    h.dispatcher.handle(updated(a, h.now, { summary: 'CPU 95 % (first)', evidence: ['cpu 95'] }));
    await h.advance(1000);
    expect(post!.text).toContain('(first)');
    const editedAt = h.now;
    // A crash loop: restarted at once, the next change comes in right away.
    await h.restart();
    h.dispatcher.handle(updated(a, h.now, { summary: 'CPU 99 % (second)', evidence: ['cpu 99'] }));
    let shownAt: number | undefined;
    for (let s = 0; s < 30 && shownAt === undefined; s++) {
      await h.advance(1000);
      if (post!.text.includes('(second)')) shownAt = h.now;
    }
    expect(shownAt! - editedAt).toBeGreaterThanOrEqual(10_000);
    expect(shownAt! - editedAt).toBeLessThanOrEqual(30_000);
    expect(h.slackPosts()).toHaveLength(1);
  });

  it('a change queued just before a restart is still applied within the group wait after it, not after the group interval', async () => {
    h = await new Harness({ config: DEFAULTS }).start();
    const a = alert('cpu-sustained', 'headscale', { severity: 'critical', evidence: ['cpu 97 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    const [post] = h.slackPosts();
    h.dispatcher.handle(resolved(a, h.now));
    const resolvedAt = h.now;
    await h.restart(); // before any tick took the change
    let shownAt: number | undefined;
    for (let s = 0; s < 60 && shownAt === undefined; s++) {
      await h.advance(1000);
      if (post!.text.includes('RESOLVED')) shownAt = h.now;
    }
    expect(shownAt! - resolvedAt).toBeLessThanOrEqual(30_000);
    expect(h.slackPosts()).toHaveLength(1);
  });

  it('an edit delivered late (a failed first attempt) counts from its delivery: the next one still waits a whole interval', async () => {
    h = await new Harness({ config: DEFAULTS }).start();
    const a = alert('cpu-sustained', 'headscale', { evidence: ['cpu 90 %'] });
    h.dispatcher.handle(firing(a, h.now));
    await steps(31);
    const [post] = h.slackPosts();
    // Slack answers the first chat.update with a 500: the outbox retries it after its backoff.
    h.fakeSlack.fail({ match: 'chat.update', kind: 'status', status: 500, times: 1 });
    const shown: number[] = [];
    let seen = 0;
    for (let s = 0; s < 30; s++) {
      h.dispatcher.handle(updated(a, h.now, { summary: `CPU ${90 + (s % 9)} % (${s})`, evidence: [`cpu ${s}`] }));
      await h.advance(1000);
      if (post!.edits > seen) {
        seen = post!.edits;
        shown.push(h.now);
      }
    }
    expect(h.fakeSlack.calls.filter((c) => c.method === 'chat.update' && c.status === 500)).toHaveLength(1);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    const gaps = shown.slice(1).map((t, i) => t - shown[i]!);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10_000);
  });
});
