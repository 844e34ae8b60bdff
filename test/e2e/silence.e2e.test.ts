import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CHANNEL_ID } from '../fakes/discord/server.js';
import { postSigned, signRequest } from '../fakes/slack/server.js';
import { alert, firing, Harness, text } from '../dispatch/harness.js';

/**
 * Silencing is one interaction path: the alert message's "Silence 1h" button and `/headscale silence add` go
 * through the same router and role check (the silence command's), and every attempt is an audit row. Real
 * Bolt (HTTP mode, signed requests) and real discord.js (gateway) against the fakes, the real dispatcher
 * posting the alert, real SQLite.
 */
const D_OPERATOR = '1200000000000000007';
const D_OUTSIDER = '1200000000000000008';

let h: Harness;
let server: Server | undefined;
afterEach(async () => {
  if (server) await new Promise<void>((r) => server!.close(() => r()));
  server = undefined;
  await h?.close();
});

/** Serves the Slack adapter's /slack/events and returns a poster of signed form bodies (as Slack sends them). */
async function slackEndpoint(): Promise<(form: Record<string, string>) => Promise<{ status: number; body: string }>> {
  server = createServer(h.slack!.httpHandler());
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  return (form) => postSigned(url, signRequest('s', form));
}

function lastAudit() {
  return h.router!.audit.last(1)[0]!;
}

describe('Silence on Slack: button and /headscale silence under one policy', () => {
  it('with no role lists nobody can silence: the button and the command are refused privately, and both attempts are audited', async () => {
    h = await new Harness().start();
    h.routeInteractions({});
    const post = await slackEndpoint();
    h.dispatcher.handle(firing(alert('node-flapping', 'node-3'), h.now));
    await h.advance(1000);
    const [msg] = h.slackPosts();
    expect(text(msg!.blocks)).toContain('silence:node-flapping:node-3:1h');

    const click = h.fakeSlack.buttonPayload({ actionId: 'silence:node-flapping:node-3:1h', messageTs: msg!.ts, userId: 'U0OUT', userName: 'outsider' });
    expect((await post({ payload: JSON.stringify(click) })).status).toBe(200);
    const refusal = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[0]);
    expect(refusal.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(String(refusal.body['text'])).toContain('silence alerts is disabled: no operators are configured');
    expect(h.dispatcher.silences.list()).toEqual([]);
    expect(lastAudit()).toMatchObject({ actor: 'slack:U0OUT', event: 'refused', command: 'silence', detail: { reason: 'not permitted', via: 'button' } });
    await h.advance(0);
    expect(text(msg!.blocks)).not.toContain('Silenced by'); // the alert message is untouched

    const cmd = await post(h.fakeSlack.slashCommandPayload({ text: 'silence add node-flapping:node-3', userId: 'U0OUT', userName: 'outsider' }));
    expect(cmd.status).toBe(200);
    const answer = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[1]);
    expect(String(answer.body['text'])).toContain('run /headscale silence is disabled: no operators are configured');
    expect(answer.body).toMatchObject({ response_type: 'ephemeral' });
    expect(h.dispatcher.silences.list()).toEqual([]);
    expect(lastAudit()).toMatchObject({ actor: 'slack:U0OUT', event: 'refused', command: 'silence', detail: { reason: 'not permitted' } });
    expect(lastAudit().detail['via']).toBeUndefined();
  });

  it('an operator silences by button and by command, each an audit row naming the silence; a non-operator click is refused', async () => {
    h = await new Harness().start();
    h.routeInteractions({ HEADWATCH_OPERATORS: 'slack:U0OPS' });
    const post = await slackEndpoint();
    h.dispatcher.handle(firing(alert('node-flapping', 'node-4'), h.now));
    await h.advance(1000);
    const [msg] = h.slackPosts();

    const stranger = h.fakeSlack.buttonPayload({ actionId: 'silence:node-flapping:node-4:1h', messageTs: msg!.ts, userId: 'U0OUT', userName: 'outsider' });
    await post({ payload: JSON.stringify(stranger) });
    const refusal = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[0]);
    expect(String(refusal.body['text'])).toContain('You (slack:U0OUT) are not allowed to silence alerts');
    expect(lastAudit()).toMatchObject({ actor: 'slack:U0OUT', event: 'refused', command: 'silence' });

    const click = h.fakeSlack.buttonPayload({ actionId: 'silence:node-flapping:node-4:1h', messageTs: msg!.ts, userId: 'U0OPS', userName: 'ops' });
    await post({ payload: JSON.stringify(click) });
    const done = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[1]);
    expect(String(done.body['text'])).toContain('Silenced node-flapping:node-4');
    const [byButton] = h.dispatcher.silences.list();
    expect(byButton).toMatchObject({ matcher: 'fingerprint', value: 'node-flapping:node-4', createdBy: 'slack:U0OPS', expiresAt: h.now + 3_600_000 });
    expect(lastAudit()).toMatchObject({ actor: 'slack:U0OPS', actorName: 'ops', event: 'executed', command: 'silence', detail: { silenceId: byButton!.id, via: 'button' } });
    await h.advance(0);
    expect(text(msg!.blocks)).toContain('Silenced by ops');

    await post(h.fakeSlack.slashCommandPayload({ text: 'silence add cpu-sustained --for 2h', userId: 'U0OPS', userName: 'ops' }));
    const added = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[2]);
    expect(String(added.body['text'])).toContain('Silenced kind cpu-sustained for 2h');
    const byCommand = h.dispatcher.silences.list().find((s) => s.matcher === 'kind')!;
    expect(byCommand).toMatchObject({ value: 'cpu-sustained', createdBy: 'slack:U0OPS', expiresAt: h.now + 7_200_000 });
    expect(lastAudit()).toMatchObject({ actor: 'slack:U0OPS', event: 'executed', command: 'silence', detail: { silenceId: byCommand.id, matcher: 'kind' } });
    expect(h.router!.audit.verify()).toMatchObject({ ok: true });
  });
});

describe('Silence button naming its alert by hash', () => {
  it('a fingerprint too long for a button id is carried as its hash and resolved to the alert when clicked', async () => {
    h = await new Harness().start();
    h.routeInteractions({ HEADWATCH_OPERATORS: 'slack:U0OPS' });
    const post = await slackEndpoint();
    const subject = `ts-${'x'.repeat(110)}`;
    h.dispatcher.handle(firing(alert('cpu-sustained', subject), h.now));
    await h.advance(1000);
    const [msg] = h.slackPosts();
    const actionId = /"action_id":"(silence:[^"]+)"/.exec(text(msg!.blocks))![1]!;
    expect(actionId).toMatch(/^silence:#[0-9a-f]{16}:1h$/);
    await post({ payload: JSON.stringify(h.fakeSlack.buttonPayload({ actionId, messageTs: msg!.ts, userId: 'U0OPS', userName: 'ops' })) });
    await h.fakeSlack.waitFor(() => h.fakeSlack.responses[0]);
    expect(h.dispatcher.silences.list()).toMatchObject([{ matcher: 'fingerprint', value: `cpu-sustained:${subject}` }]);
    // An unknown hash silences nothing and says so.
    await post({ payload: JSON.stringify(h.fakeSlack.buttonPayload({ actionId: 'silence:#0000000000000000:1h', messageTs: msg!.ts, userId: 'U0OPS' })) });
    const gone = await h.fakeSlack.waitFor(() => h.fakeSlack.responses[1]);
    expect(String(gone.body['text'])).toContain('That alert is no longer known; nothing was silenced.');
    expect(h.dispatcher.silences.list()).toHaveLength(1);
  });
});

describe('Silence on Discord: button and /headscale silence under one policy', () => {
  it('refuses an outsider with no role lists (button and command), then lets an operator silence both ways; all audited', async () => {
    h = await new Harness({ slack: false, discord: true }).start();
    h.routeInteractions({});
    h.dispatcher.handle(firing(alert('cpu-sustained', 'tailscale-9', { severity: 'critical' }), h.now));
    await h.advance(1000);
    const [msg] = h.fakeDiscord.channelMessages(CHANNEL_ID);
    const customId = 'silence:cpu-sustained:tailscale-9:1h';

    const click = h.fakeDiscord.clickButton({ messageId: msg!.id, customId, userId: D_OUTSIDER, userName: 'dave' });
    const [refused] = await h.fakeDiscord.waitFor(() => h.fakeDiscord.callbacksFor(click).length > 0 && h.fakeDiscord.callbacksFor(click));
    expect(refused).toMatchObject({ type: 4, data: { flags: 64 } });
    expect(JSON.stringify(refused!.data)).toContain('silence alerts is disabled: no operators are configured');
    expect(lastAudit()).toMatchObject({ actor: `discord:${D_OUTSIDER}`, event: 'refused', command: 'silence', detail: { via: 'button' } });

    const cmd = h.fakeDiscord.slashCommand({ subcommand: 'silence', options: { action: 'add', target: 'cpu-sustained:tailscale-9' }, userId: D_OUTSIDER, userName: 'dave' });
    const reply = await h.fakeDiscord.waitFor(() => h.fakeDiscord.originalReply(cmd));
    await h.fakeDiscord.waitFor(() => JSON.stringify(reply.embeds).includes('no operators are configured'));
    expect(reply.flags & 64).toBe(64);
    expect(h.dispatcher.silences.list()).toEqual([]);
    expect(lastAudit()).toMatchObject({ actor: `discord:${D_OUTSIDER}`, event: 'refused', command: 'silence' });

    // The same headwatch with an operator configured (as after setting HEADWATCH_OPERATORS and restarting).
    await h.router!.stop();
    h.routeInteractions({ HEADWATCH_OPERATORS: `discord:${D_OPERATOR}` });
    const ok = h.fakeDiscord.clickButton({ messageId: msg!.id, customId, userId: D_OPERATOR, userName: 'carol' });
    await h.fakeDiscord.waitFor(() => h.fakeDiscord.callbacksFor(ok).length === 1);
    expect(JSON.stringify(h.fakeDiscord.callbacksFor(ok)[0]!.data)).toContain('Silenced `cpu-sustained:tailscale-9` for 1h');
    const [byButton] = h.dispatcher.silences.list();
    expect(byButton).toMatchObject({ value: 'cpu-sustained:tailscale-9', createdBy: `discord:${D_OPERATOR}` });
    expect(lastAudit()).toMatchObject({ actor: `discord:${D_OPERATOR}`, event: 'executed', command: 'silence', detail: { silenceId: byButton!.id, via: 'button' } });
    await h.advance(0);
    expect(JSON.stringify(msg!.embeds)).toContain('Silenced by carol');

    const add = h.fakeDiscord.slashCommand({ subcommand: 'silence', options: { action: 'add', target: 'subject=tailscale-9', for: '30m' }, userId: D_OPERATOR, userName: 'carol' });
    const added = await h.fakeDiscord.waitFor(() => h.fakeDiscord.originalReply(add));
    await h.fakeDiscord.waitFor(() => JSON.stringify(added.embeds).includes('Silenced subject tailscale-9 for 30m'));
    const byCommand = h.dispatcher.silences.list().find((s) => s.matcher === 'subject')!;
    expect(byCommand.createdBy).toBe(`discord:${D_OPERATOR}`);
    expect(lastAudit()).toMatchObject({ actor: `discord:${D_OPERATOR}`, event: 'executed', command: 'silence', detail: { silenceId: byCommand.id } });
  });
});

describe('Silence on one platform shows on both messages of the alert', () => {
  it('the Silence 1h button in Discord marks the Slack message too; a typed silence in Slack marks the Discord message', async () => {
    h = await new Harness({ discord: true }).start();
    h.routeInteractions({ HEADWATCH_OPERATORS: `discord:${D_OPERATOR},slack:U0OPS` });
    const post = await slackEndpoint();
    h.dispatcher.handle(firing(alert('cpu-sustained', 'tailscale-7', { severity: 'critical' }), h.now));
    h.dispatcher.handle(firing(alert('node-flapping', 'node-8'), h.now));
    await h.advance(1000);
    const slackMessage = (subject: string) => h.slackPosts().find((m) => m.text.includes(subject))!;
    const discordMessage = (subject: string) => h.fakeDiscord.channelMessages(CHANNEL_ID).find((m) => JSON.stringify(m.embeds).includes(subject))!;
    expect(slackMessage('tailscale-7')).toBeDefined();
    expect(discordMessage('tailscale-7')).toBeDefined();

    const click = h.fakeDiscord.clickButton({ messageId: discordMessage('tailscale-7').id, customId: 'silence:cpu-sustained:tailscale-7:1h', userId: D_OPERATOR, userName: 'carol' });
    await h.fakeDiscord.waitFor(() => h.fakeDiscord.callbacksFor(click).length === 1);
    await h.advance(0);
    expect(JSON.stringify(discordMessage('tailscale-7').embeds)).toContain('Silenced by carol');
    expect(text(slackMessage('tailscale-7').blocks)).toContain('Silenced by carol');
    expect(text(slackMessage('node-8').blocks)).not.toContain('Silenced by'); // only that alert

    await post(h.fakeSlack.slashCommandPayload({ text: 'silence add node-flapping:node-8 --for 2h', userId: 'U0OPS', userName: 'ops' }));
    await h.fakeSlack.waitFor(() => h.fakeSlack.responses.some((r) => String(r.body['text']).includes('Silenced fingerprint node-flapping:node-8')));
    await h.advance(0);
    expect(text(slackMessage('node-8').blocks)).toContain('Silenced by ops');
    expect(JSON.stringify(discordMessage('node-8').embeds)).toContain('Silenced by ops');
    expect(h.dispatcher.silences.list().map((s) => `${s.value}:${s.createdBy}`).sort()).toEqual([`cpu-sustained:tailscale-7:discord:${D_OPERATOR}`, 'node-flapping:node-8:slack:U0OPS']);
  });
});
