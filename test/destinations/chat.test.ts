import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { slackDestination } from '../../src/adapters/slack/platform.js';
import type { Delivery } from '../../src/destinations/destination.js';
import type { Message } from '../../src/messages/model.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { quietLogger } from '../adapters/helpers.js';

const CHANNEL = 'C0DEST';
const message = (text: string): Message => ({ fallback: text, tone: 'warning', blocks: [{ type: 'text', text }] });
const post = (text: string, key: string, mayExist = false): Delivery => ({ op: 'post', channelId: CHANNEL, message: message(text), once: { idempotencyKey: key, mayExist, sinceMs: Date.now() - 60_000 } });

let fake: FakeSlack;
let adapter: SlackAdapter;
beforeEach(async () => {
  fake = new FakeSlack({ botToken: 'xoxb-dest' });
  await fake.start();
  adapter = new SlackAdapter({ botToken: 'xoxb-dest', signingSecret: 's', apiUrl: fake.apiUrl, logger: quietLogger() });
  await adapter.start();
});
afterEach(async () => {
  await adapter.stop();
  await fake.stop();
});

describe('ChatDestination (Slack through the real Bolt client)', () => {
  it('knows its name, its default channel and the setting behind it', () => {
    const d = slackDestination(adapter, CHANNEL);
    expect(d).toMatchObject({ name: 'slack', displayName: 'Slack', kind: 'chat', defaultChannel: CHANNEL, channelSetting: 'SLACK_CHANNEL' });
    expect(slackDestination(adapter, undefined).defaultChannel).toBeUndefined();
  });

  it('posts, replies in the thread and edits, answering with where the message is', async () => {
    const d = slackDestination(adapter, CHANNEL);
    const posted = await d.notify(post('disk full', 'hw-a1'));
    expect(posted).toMatchObject({ ok: true, ref: { platform: 'slack', channelId: CHANNEL } });
    if (!posted.ok || !posted.ref) throw new Error('not posted');
    const ref = posted.ref;
    expect(await d.notify({ op: 'reply', channelId: CHANNEL, parent: ref, message: message('still full'), once: { idempotencyKey: 'hw-a2', mayExist: false, sinceMs: 0 } })).toMatchObject({ ok: true });
    expect(await d.notify({ op: 'edit', ref, message: message('RESOLVED disk full') })).toEqual({ ok: true });
    const [m] = fake.channelMessages(CHANNEL);
    expect(m!.text).toContain('RESOLVED');
    expect(fake.threadReplies(m!.ts).map((r) => r.text)).toEqual([expect.stringContaining('still full')]);
  });

  it('says a 5xx is worth retrying, a lost answer may have been delivered, and then finds that message instead of posting twice', async () => {
    const d = slackDestination(adapter, CHANNEL);
    fake.fail({ match: 'chat.postMessage', kind: 'status', status: 500 });
    expect(await d.notify(post('cpu 97 %', 'hw-b1'))).toMatchObject({ ok: false, retry: true });
    fake.fail({ match: 'chat.postMessage', kind: 'drop', when: 'after' });
    expect(await d.notify(post('cpu 97 %', 'hw-b2'))).toMatchObject({ ok: false, retry: true, maybeDelivered: true });
    const again = await d.notify(post('cpu 97 %', 'hw-b2', true));
    expect(again).toMatchObject({ ok: true });
    expect(fake.channelMessages(CHANNEL)).toHaveLength(1);
  });

  it('refuses alert batches as final (a route cannot make Slack a webhook)', async () => {
    expect(await slackDestination(adapter, CHANNEL).notify({ op: 'alerts', alerts: [] })).toEqual({ ok: false, retry: false, error: 'slack cannot take alert batches', maybeDelivered: false });
  });
});
