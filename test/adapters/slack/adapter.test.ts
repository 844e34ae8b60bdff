import { DeliveryError } from '../../../src/destinations/destination.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type MessageRef } from '../../../src/adapters/chat.js';
import { SlackAdapter } from '../../../src/adapters/slack/adapter.js';
import { startHttpServer } from '../../../src/http/server.js';
import { Metrics } from '../../../src/http/metrics.js';
import type { Message } from '../../../src/messages/model.js';
import { FakeSlack, postSigned, signRequest } from '../../fakes/slack/server.js';
import { quietLogger, RecordingHandler } from '../helpers.js';

const BOT = 'xoxb-test-bot-token';
const APP = 'xapp-test-app-token';
const SECRET = 'signing-secret-for-tests';
const CHANNEL = 'C0OPS';

const card: Message = {
  fallback: 'node-12 is flapping',
  tone: 'critical',
  blocks: [
    { type: 'header', text: 'node-12 flapping' },
    { type: 'fields', fields: [{ label: 'Severity', value: 'critical' }] },
    { type: 'buttons', buttons: [{ actionId: 'silence:node-flapping:node-12:1h', label: 'Silence 1h' }] },
  ],
};

describe('Slack adapter, Socket Mode (real Bolt against the fake)', () => {
  let fake: FakeSlack;
  let slack: SlackAdapter;
  let handler: RecordingHandler;

  beforeEach(async () => {
    fake = new FakeSlack({ botToken: BOT, appToken: APP, pingMs: 1000 });
    await fake.start();
    slack = new SlackAdapter({ botToken: BOT, appToken: APP, apiUrl: fake.apiUrl, logger: quietLogger(), clientPingTimeoutMs: 200 });
    handler = new RecordingHandler();
    slack.setHandler(handler);
    await slack.start();
  });
  afterEach(async () => {
    await slack.stop();
    await fake.stop();
  });

  it('connects without a public URL and posts Block Kit messages, edits them and replies in their thread', async () => {
    expect(slack.status().connected).toBe(true);
    expect(fake.callsTo('apps.connections.open')).toHaveLength(1);
    const ref = await slack.send(CHANNEL, card, undefined, { idempotencyKey: 'hw-abc' });
    const posted = fake.channelMessages(CHANNEL);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.ts).toBe(ref.messageId);
    expect(JSON.stringify(posted[0]!.blocks)).toContain('silence:node-flapping:node-12:1h');
    expect(posted[0]!.metadata?.event_payload).toEqual({ key: 'hw-abc' });

    await slack.edit(ref, { ...card, tone: 'ok', blocks: [{ type: 'header', text: 'node-12 resolved' }] });
    expect(posted[0]!.edits).toBe(1);
    expect(JSON.stringify(posted[0]!.blocks)).toContain('node-12 resolved');

    const reply = await slack.send(CHANNEL, { fallback: 'resolved after 5 min', tone: 'neutral', blocks: [{ type: 'text', text: 'resolved after 5 min' }] }, ref);
    expect(reply.threadId).toBe(ref.messageId);
    expect(fake.threadReplies(ref.messageId)).toHaveLength(1);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(1);
    // the bot token went out as a Bearer token, never in the body
    expect(fake.callsTo('chat.postMessage').every((c) => c.token === BOT && !JSON.stringify(c.args).includes(BOT))).toBe(true);
  });

  it('hands slash commands and button clicks to the InteractionHandler and acknowledges them', async () => {
    handler.command = async (_inv, r) => {
      await r.ack({ fallback: 'working…', tone: 'neutral', blocks: [{ type: 'text', text: 'working…' }], ephemeral: true });
      await r.replace({ fallback: 'done', tone: 'ok', blocks: [{ type: 'text', text: '3 nodes' }] });
    };
    const ack = (await fake.slashCommand({ text: 'nodes list --online', userId: 'U0ALICE' })) as { text?: string; response_type?: string };
    expect(ack.text).toContain('working');
    expect(ack.response_type).toBe('ephemeral');
    expect(handler.commands[0]).toMatchObject({ platform: 'slack', userId: 'U0ALICE', channelId: 'C0OPS', subcommand: 'nodes', rawText: 'list --online' });
    await fake.waitFor(() => fake.responses.length === 1);
    expect(fake.responses[0]!.body).toMatchObject({ replace_original: true });

    const ref = await slack.send(CHANNEL, card);
    handler.button = async (c) => {
      await c.respond.private({ fallback: 'silenced', tone: 'info', blocks: [{ type: 'text', text: 'silenced for 1h' }] });
    };
    await fake.clickButton({ actionId: 'silence:node-flapping:node-12:1h', messageTs: ref.messageId, userId: 'U0BOB' });
    await fake.waitFor(() => fake.responses.length === 2);
    expect(handler.clicks[0]).toMatchObject({ actionId: 'silence:node-flapping:node-12:1h', userId: 'U0BOB', message: { messageId: ref.messageId, channelId: CHANNEL } });
    expect(fake.responses[1]!.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
  });

  it('reports rate limits with Retry-After, server errors as retryable, and finds a post whose answer was lost', async () => {
    fake.fail({ match: 'chat.postMessage', kind: 'ratelimit', retryAfterSec: 7 });
    const rl = await slack.send(CHANNEL, card).catch((e: unknown) => e);
    expect(rl).toBeInstanceOf(DeliveryError);
    expect(rl).toMatchObject({ retryable: true, retryAfterMs: 7000 });

    fake.fail({ match: 'chat.postMessage', kind: 'status', status: 500 });
    const five = await slack.send(CHANNEL, card).catch((e: unknown) => e);
    expect(five).toMatchObject({ retryable: true });
    expect((five as Error).message).not.toContain('<html>');

    fake.fail({ match: 'chat.postMessage', kind: 'error', error: 'channel_not_found' });
    const nf = await slack.send(CHANNEL, card).catch((e: unknown) => e);
    expect(nf).toMatchObject({ retryable: false });
    expect((nf as Error).message).toContain('SLACK_CHANNEL');

    fake.fail({ match: 'chat.postMessage', kind: 'drop', when: 'after' });
    const since = Date.now() - 1000;
    const lost = await slack.send(CHANNEL, card, undefined, { idempotencyKey: 'hw-lost' }).catch((e: unknown) => e);
    expect(lost).toMatchObject({ retryable: true, maybeDelivered: true });
    expect(fake.channelMessages(CHANNEL)).toHaveLength(1); // it did land
    const found = (await slack.findSent(CHANNEL, 'hw-lost', { sinceMs: since })) as MessageRef;
    expect(found.messageId).toBe(fake.channelMessages(CHANNEL)[0]!.ts);
    expect(await slack.findSent(CHANNEL, 'hw-other', { sinceMs: since })).toBeUndefined();
  });

  it('reconnects after Slack asks it to, and after the socket is cut', async () => {
    fake.requestReconnect();
    await fake.waitFor(() => fake.callsTo('apps.connections.open').length === 2 && fake.socketCount === 1);
    fake.dropSockets();
    await fake.waitFor(() => !slack.status().connected || fake.callsTo('apps.connections.open').length === 3);
    await fake.waitFor(() => fake.callsTo('apps.connections.open').length === 3 && slack.status().connected, 8000);
    await slack.send(CHANNEL, card);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(1);
  });
});

describe('Slack adapter, HTTP mode (signed requests)', () => {
  let fake: FakeSlack;
  let slack: SlackAdapter;
  let handler: RecordingHandler;
  let server: Server;
  let url: string;

  beforeEach(async () => {
    fake = new FakeSlack({ botToken: BOT });
    await fake.start();
    slack = new SlackAdapter({ botToken: BOT, signingSecret: SECRET, apiUrl: fake.apiUrl, logger: quietLogger() });
    handler = new RecordingHandler();
    handler.command = async (_i, r) => r.ack({ fallback: 'ok', tone: 'ok', blocks: [{ type: 'text', text: 'pong' }], ephemeral: true });
    slack.setHandler(handler);
    await slack.start();
    server = createServer(slack.httpHandler());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterEach(async () => {
    await new Promise<void>((r) => server.close(() => r()));
    await slack.stop();
    await fake.stop();
  });

  it('accepts a correctly signed slash command and answers with the ack body', async () => {
    const res = await postSigned(url, signRequest(SECRET, fake.slashCommandPayload({ text: 'ping' })));
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ text: expect.stringContaining('ok'), response_type: 'ephemeral' });
    expect(handler.commands).toHaveLength(1);
    expect(slack.status().connected).toBe(true);
  });

  it('rejects forged, stale and replayed requests with 401 before any handler runs', async () => {
    const form = fake.slashCommandPayload({ text: 'nodes delete 7' });
    const forged = await postSigned(url, signRequest('not-the-secret', form));
    const stale = await postSigned(url, signRequest(SECRET, form, Math.floor(Date.now() / 1000) - 6 * 60));
    const tampered = signRequest(SECRET, form);
    const tamperedRes = await postSigned(url, { ...tampered, body: tampered.body.replace('delete+7', 'delete+8') });
    const good = signRequest(SECRET, form);
    const first = await postSigned(url, good);
    const replayed = await postSigned(url, good);
    const unsigned = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
    expect([forged.status, stale.status, tamperedRes.status, replayed.status, unsigned.status]).toEqual([401, 401, 401, 401, 401]);
    expect([forged.body, stale.body, replayed.body]).toEqual(['', '', '']);
    expect(first.status).toBe(200);
    expect(handler.commands).toHaveLength(1);
  });

  it("mounts on headwatch's HTTP server and verifies the exact bytes Slack signed", async () => {
    const server = await startHttpServer({ host: '127.0.0.1', port: 0, metrics: new Metrics({ processMetrics: false }), checks: [], routes: { '/slack/events': slack.httpHandler() } });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const click = signRequest(SECRET, { payload: JSON.stringify(fake.buttonPayload({ actionId: 'silence:x:1h', messageTs: '1.000001', channelId: CHANNEL })) });
      const ok = await postSigned(`${base}/slack/events`, click);
      expect(ok.status).toBe(200);
      await fake.waitFor(() => handler.clicks.length === 1);
      expect(handler.clicks[0]!.actionId).toBe('silence:x:1h');
      const bad = await postSigned(`${base}/slack/events`, signRequest('wrong', { payload: '{}' }));
      expect(bad.status).toBe(401);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await server.close();
    }
  });
});
