import { DeliveryError } from '../../src/destinations/destination.js';
import { afterEach, describe, expect, it } from 'vitest';
import { Outbox } from '../../src/store/outbox.js';
import { CHANNEL_ID } from '../fakes/discord/server.js';
import { alert, firing, Harness, resolved, SLACK_CHANNEL } from './harness.js';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('outage: 500s, 429 Retry-After, dropped connections and a restart in the middle', () => {
  it('delivers every alert exactly once, in order, on Slack, Discord and the console', async () => {
    h = await new Harness({ discord: true, config: { HEADWATCH_CHANNEL_BUDGET: 100, HEADWATCH_GROUP_WAIT: 1000, HEADWATCH_GROUP_INTERVAL: 5000 } }).start();
    const consoleSeen: string[] = [];
    const collect = () => {
      for (const b of h.sender.batches.splice(0)) for (const a of b) consoleSeen.push(`${a.subject}:${a.status}`);
    };

    // Slack: two 500s, a 429 with Retry-After, a post whose answer is lost, a connection cut before processing
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'status', status: 500, times: 2 });
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'ratelimit', retryAfterSec: 3 });
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'drop', when: 'after' });
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'drop', when: 'before' });
    h.fakeSlack.fail({ match: 'chat.update', kind: 'status', status: 503 });
    // Discord: a 502, a 429, a lost answer
    h.fakeDiscord.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'status', status: 502 });
    h.fakeDiscord.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'ratelimit', retryAfterSec: 2 });
    h.fakeDiscord.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'drop', when: 'after' });
    h.sender.failNext.push(new DeliveryError('webhook answered 503', true, 2000));

    const nodes = Array.from({ length: 8 }, (_, i) => alert('node-offline', `node-${i}`));
    const step = async (ms: number) => {
      await h.advance(ms);
      collect();
    };
    for (const a of nodes.slice(0, 4)) {
      h.dispatcher.handle(firing(a, h.now));
      await step(1500);
    }
    for (let i = 0; i < 4; i++) await step(1000);
    // Restart while rows are still failing/pending (the lost Slack answer is among them).
    const outbox = new Outbox(h.store);
    expect(outbox.all().some((r) => r.status === 'pending')).toBe(true);
    await h.restart();
    h.dispatcher.handle(resolved(nodes[1]!, h.now));
    for (const a of nodes.slice(4)) {
      h.dispatcher.handle(firing(a, h.now));
      await step(700);
    }
    h.fakeSlack.fail({ match: 'chat.postMessage', kind: 'status', status: 500, times: 1 });
    for (let i = 0; i < 120; i++) await step(1000);

    const rows = new Outbox(h.store).all();
    expect(rows.filter((r) => r.status !== 'sent')).toEqual([]);

    const subjectsIn = (texts: string[]) => texts.map((t) => /node-\d+/.exec(t)?.[0]);
    const expected = nodes.map((n) => n.subject);
    // Slack: one message per alert, in firing order; node-1 edited to resolved with a thread note
    const slack = h.fakeSlack.channelMessages(SLACK_CHANNEL);
    expect(subjectsIn(slack.map((m) => m.text))).toEqual(expected);
    expect(slack[1]!.text).toContain('RESOLVED');
    expect(h.fakeSlack.threadReplies(slack[1]!.ts).map((m) => m.text)).toEqual([expect.stringContaining('resolved')]);
    // Discord: same
    const discord = h.fakeDiscord.channelMessages(CHANNEL_ID);
    expect(subjectsIn(discord.map((m) => String(m.embeds[0]!['title'])))).toEqual(expected);
    expect(String(discord[1]!.embeds[0]!['title'])).toContain('RESOLVED');
    // Console: every state change exactly once
    expect(consoleSeen.filter((s) => s.endsWith(':firing'))).toEqual(expected.map((s) => `${s}:firing`));
    expect(consoleSeen.filter((s) => s.endsWith(':resolved'))).toEqual(['node-1:resolved']);
    // The faults really happened (otherwise this test proves nothing).
    expect(h.fakeSlack.faults.hits).toBe(7);
    expect(h.fakeDiscord.faults.hits).toBe(3);
    expect(h.fakeSlack.callsTo('conversations.history').length).toBeGreaterThan(0); // looked before re-posting
    // tokens never reach the database
    let bytes: string;
    if (h.store.dialect === 'sqlite') {
      h.store.db.pragma('wal_checkpoint(TRUNCATE)');
      const { readFileSync } = await import('node:fs');
      bytes = readFileSync(h.db.path).toString('latin1');
    } else {
      const tables = h.store.db.prepare(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public'`).all() as { t: string }[];
      bytes = tables.map(({ t }) => (h.store.db.prepare(`SELECT string_agg(x::text, ' ') AS s FROM ${t} x`).get() as { s: string | null }).s ?? '').join(' ');
    }
    expect(bytes).toContain('node-offline');
    expect(bytes).not.toContain('xoxb-harness');
    expect(bytes).not.toContain('discord-harness');
  });
});
