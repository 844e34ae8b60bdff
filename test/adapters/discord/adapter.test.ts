import { DeliveryError } from '../../../src/destinations/destination.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../../src/adapters/discord/adapter.js';
import { TONE_COLOUR } from '../../../src/adapters/discord/render.js';
import type { Message } from '../../../src/messages/model.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../../fakes/discord/server.js';
import { quietLogger, RecordingHandler } from '../helpers.js';

const TOKEN = 'discord-test-token';

const card: Message = {
  fallback: 'node-12 is flapping',
  tone: 'critical',
  blocks: [
    { type: 'header', text: 'node-12 flapping' },
    { type: 'text', text: '6 reconnects in 5 min' },
    { type: 'fields', fields: [{ label: 'Severity', value: 'critical' }] },
    { type: 'buttons', buttons: [{ actionId: 'silence:node-flapping:node-12:1h', label: 'Silence 1h' }] },
  ],
};

describe('Discord adapter (real discord.js against the fake)', () => {
  let fake: FakeDiscord;
  let discord: DiscordAdapter;
  let handler: RecordingHandler;

  beforeEach(async () => {
    fake = new FakeDiscord({ token: TOKEN });
    await fake.start();
    discord = new DiscordAdapter({ token: TOKEN, applicationId: APP_ID, guildId: GUILD_ID, apiUrl: fake.apiUrl, logger: quietLogger() });
    handler = new RecordingHandler();
    discord.setHandler(handler);
    await discord.start();
    await fake.waitFor(() => discord.status().connected);
  });
  afterEach(async () => {
    await discord.stop();
    await fake.stop();
  });

  it('posts embeds coloured by severity with buttons, edits them in place and replies in a thread', async () => {
    const ref = await discord.send(CHANNEL_ID, card, undefined, { idempotencyKey: 'hw-nonce-1' });
    const [posted] = fake.channelMessages();
    expect(posted!.id).toBe(ref.messageId);
    expect(posted!.embeds[0]).toMatchObject({ title: 'node-12 flapping', color: TONE_COLOUR.critical });
    expect(JSON.stringify(posted!.components)).toContain('silence:node-flapping:node-12:1h');
    expect(posted!.nonce).toBe('hw-nonce-1');

    const reply = await discord.send(CHANNEL_ID, { fallback: 'still firing', tone: 'neutral', blocks: [{ type: 'text', text: 'still firing' }] }, ref);
    expect(reply.threadId).toBe(ref.messageId);
    const reply2 = await discord.send(CHANNEL_ID, { fallback: 'resolved', tone: 'ok', blocks: [{ type: 'text', text: 'resolved' }] }, { ...ref });
    expect(reply2.threadId).toBe(ref.messageId); // the thread already existed: reused
    expect(fake.threadMessages(ref.messageId)).toHaveLength(2);

    await discord.edit({ ...ref, threadId: ref.messageId }, { ...card, tone: 'ok', blocks: [{ type: 'header', text: 'RESOLVED node-12' }] });
    expect(posted!.edits).toBe(1);
    expect(posted!.embeds[0]).toMatchObject({ title: 'RESOLVED node-12', color: TONE_COLOUR.ok });
    expect(fake.calls.filter((c) => c.path.startsWith('/channels')).every((c) => c.auth === `Bot ${TOKEN}`)).toBe(true);
  });

  it('surfaces 429 Retry-After to the caller instead of waiting, and 500s as retryable', async () => {
    fake.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'ratelimit', retryAfterSec: 3 });
    const rl = await discord.send(CHANNEL_ID, card).catch((e: unknown) => e);
    expect(rl).toBeInstanceOf(DeliveryError);
    expect((rl as DeliveryError).retryable).toBe(true);
    expect((rl as DeliveryError).retryAfterMs).toBeGreaterThanOrEqual(3000);

    fake.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'status', status: 502 });
    const five = await discord.send(CHANNEL_ID, card).catch((e: unknown) => e);
    expect(five).toMatchObject({ retryable: true });
    expect(fake.channelMessages()).toHaveLength(0);

    const unknown = await discord.send('1999999999999999999', card).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ retryable: false });
    expect((unknown as Error).message).toContain('DISCORD_CHANNEL_ID');
  });

  it('never posts twice when an answer is lost: the retry carries the same nonce', async () => {
    fake.fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'drop', when: 'after' });
    const lost = await discord.send(CHANNEL_ID, card, undefined, { idempotencyKey: 'hw-same' }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ retryable: true, maybeDelivered: true });
    const again = await discord.send(CHANNEL_ID, card, undefined, { idempotencyKey: 'hw-same' });
    expect(fake.channelMessages()).toHaveLength(1);
    expect(again.messageId).toBe(fake.channelMessages()[0]!.id);
  });

  it('hands slash commands (with typed options) and button clicks to the InteractionHandler', async () => {
    handler.command = async (_i, r) => {
      await r.ack({ fallback: 'working', tone: 'neutral', blocks: [{ type: 'text', text: 'working…' }] });
      await r.replace({ fallback: 'done', tone: 'ok', blocks: [{ type: 'text', text: 'key created' }] });
      await r.private({ fallback: 'secret', tone: 'info', blocks: [{ type: 'text', text: 'only you see this' }] });
    };
    const iid = fake.slashCommand({ subcommand: 'key', options: { user: 'alice', reusable: true, hours: 2 } });
    await fake.waitFor(() => fake.followUps.length === 1);
    expect(handler.commands[0]).toMatchObject({ platform: 'discord', subcommand: 'key', options: { user: 'alice', reusable: true, hours: 2 } });
    expect(fake.callbacksFor(iid)[0]!.type).toBe(4);
    expect(JSON.stringify(fake.originalReply(iid)!.embeds)).toContain('key created');
    expect(fake.followUps[0]!.flags & 64).toBe(64);

    const ref = await discord.send(CHANNEL_ID, card);
    handler.button = async (c) => c.respond.private({ fallback: 'ok', tone: 'info', blocks: [{ type: 'text', text: 'silenced' }] });
    const bid = fake.clickButton({ messageId: ref.messageId, customId: 'silence:node-flapping:node-12:1h', userId: '1200000000000000005' });
    await fake.waitFor(() => fake.callbacksFor(bid).length === 1);
    expect(handler.clicks[0]).toMatchObject({ actionId: 'silence:node-flapping:node-12:1h', userId: '1200000000000000005', message: { messageId: ref.messageId, channelId: CHANNEL_ID } });
    expect(fake.callbacksFor(bid)[0]).toMatchObject({ type: 4, data: { flags: 64 } });
  });

  it('acknowledges for a slow handler before Discord’s 3 s deadline', async () => {
    let release!: () => void;
    handler.command = (_i, r) =>
      new Promise<void>((resolve) => {
        release = () => void r.replace({ fallback: 'late', tone: 'ok', blocks: [{ type: 'text', text: 'late answer' }] }).then(resolve);
      });
    const iid = fake.slashCommand({ subcommand: 'nodes' });
    await fake.waitFor(() => fake.callbacksFor(iid).length === 1, 4000);
    expect(fake.callbacksFor(iid)[0]!.type).toBe(5); // deferred
    release();
    await fake.waitFor(() => JSON.stringify(fake.originalReply(iid)?.embeds ?? []).includes('late answer'));
  });

  it('sends a direct message to one user through a DM channel, not the alert channel', async () => {
    const before = fake.channelMessages(CHANNEL_ID).length;
    const ref = await discord.directMessage('1200000000000000009', { fallback: 'only for you', tone: 'info', blocks: [{ type: 'text', text: 'only for you' }] });
    const dms = fake.directMessages('1200000000000000009');
    expect(dms).toHaveLength(1);
    expect(ref.channelId).toBe(fake.dmChannels.get('1200000000000000009'));
    expect(JSON.stringify(dms[0])).toContain('only for you');
    expect(fake.channelMessages(CHANNEL_ID)).toHaveLength(before);
  });

  it('tracks the gateway: resumes after a 4000 close and reports the drop', async () => {
    fake.closeGateway(4000);
    await fake.waitFor(() => !discord.status().connected || fake.resumes > 0);
    await fake.waitFor(() => fake.resumes === 1 && discord.status().connected, 8000);
    const ref = await discord.send(CHANNEL_ID, card);
    expect(ref.messageId).toBeTruthy();
  });
});
