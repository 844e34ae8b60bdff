import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { DiscordAdapter } from '../../src/adapters/discord/adapter.js';
import { registerDiscordCommands } from '../../src/adapters/discord/register.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../fakes/discord/server.js';
import { startRig, type Rig } from '../interaction/harness.js';

/**
 * The whole path a user takes: the real Bolt and discord.js clients against the fake platforms, the real
 * adapters, the router, real SQLite and the fake Headscale over HTTP.
 */
const BOT = 'xoxb-e2e-bot-token';
const APP = 'xapp-e2e-app-token';
const D_TOKEN = 'discord-e2e-bot-token';
const D_REQUESTER = '1200000000000000001';
const D_APPROVER = '1200000000000000002';

const quiet = () => pino({ level: 'silent' });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    HEADWATCH_OPERATORS: `slack:U0OPER,discord:${D_REQUESTER}`,
    HEADWATCH_APPROVERS: `slack:U0APPR,discord:${D_APPROVER}`,
    HEADWATCH_ADMINS: 'slack:U0ADMIN',
    ...extra,
  };
}

const text = (v: unknown) => JSON.stringify(v);

async function slackRig(extra: Record<string, string> = {}): Promise<{ rig: Rig; fake: FakeSlack }> {
  const rig = await startRig({ env: env(extra) });
  const fake = new FakeSlack({ botToken: BOT, appToken: APP, pingMs: 1000 });
  await fake.start();
  const slack = new SlackAdapter({ botToken: BOT, appToken: APP, apiUrl: fake.apiUrl, logger: quiet(), clientPingTimeoutMs: 2000 });
  slack.setHandler(rig.router);
  await slack.start();
  cleanups.push(async () => {
    await slack.stop();
    await fake.stop();
    await rig.close();
  });
  return { rig, fake };
}

async function discordRig(extra: Record<string, string> = {}): Promise<{ rig: Rig; fake: FakeDiscord }> {
  const fake = new FakeDiscord({ token: D_TOKEN, heartbeatMs: 1000 });
  await fake.start();
  const rig = await startRig({
    env: env({ DISCORD_TOKEN: D_TOKEN, DISCORD_APPLICATION_ID: APP_ID, DISCORD_GUILD_ID: GUILD_ID, DISCORD_CHANNEL_ID: CHANNEL_ID, DISCORD_API_URL: fake.apiUrl, ...extra }),
  });
  await registerDiscordCommands(rig.config);
  const discord = new DiscordAdapter({ token: D_TOKEN, applicationId: APP_ID, guildId: GUILD_ID, apiUrl: fake.apiUrl, logger: quiet() });
  discord.setHandler(rig.router);
  await discord.start();
  await fake.waitFor(() => discord.status().connected);
  cleanups.push(async () => {
    await discord.stop();
    await fake.stop();
    await rig.close();
  });
  return { rig, fake };
}

function slackButtons(blocks: unknown[]): { label: string; actionId: string }[] {
  return (blocks as { type: string; elements?: { action_id: string; text: { text: string } }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ label: e.text.text, actionId: e.action_id }));
}

function discordButtons(components: unknown[]): { label: string; customId: string }[] {
  return (components as { components?: { label: string; custom_id: string }[] }[])
    .flatMap((row) => row.components ?? [])
    .map((c) => ({ label: c.label, customId: c.custom_id }));
}

describe('Slack end to end (Bolt, Socket Mode)', () => {
  it('delete-node: acknowledged privately, card with Approve/Deny, approval deletes once, card ends DONE', async () => {
    const { rig, fake } = await slackRig();
    const ack = (await fake.slashCommand({ text: 'delete-node laptop', userId: 'U0ADMIN', userName: 'admin' })) as { response_type?: string };
    expect(ack.response_type).toBe('ephemeral');
    const card = await fake.waitFor(() => fake.channelMessages().find((m) => slackButtons(m.blocks).length === 2));
    expect(slackButtons(card.blocks).map((b) => b.label)).toEqual(['Approve', 'Deny']);
    expect(card.text).toContain('delete node 1 (laptop, user alice)');
    const approve = slackButtons(card.blocks)[0]!.actionId;

    // The requester (an admin, so allowed to approve in general) cannot approve their own request; another approver can.
    await fake.clickButton({ actionId: approve, messageTs: card.ts, userId: 'U0ADMIN', userName: 'admin' });
    await fake.waitFor(() => fake.responses.some((r) => text(r.body).includes('cannot approve your own request')));
    await fake.clickButton({ actionId: approve, messageTs: card.ts, userId: 'U0APPR', userName: 'appr' });
    await fake.waitFor(() => card.text.includes('DONE:'));
    expect(card.history.map((h) => h.text)).toEqual(expect.arrayContaining([expect.stringContaining('APPROVED:'), expect.stringContaining('RUNNING:')]));
    expect(slackButtons(card.blocks)).toHaveLength(0);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);

    // A replayed click changes nothing.
    await fake.clickButton({ actionId: approve, messageTs: card.ts, userId: 'U0APPR', userName: 'appr' });
    await fake.waitFor(() => fake.responses.some((r) => text(r.body).includes('already done')));
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('create-key: the key reaches only the requester, through the command’s own private reply', async () => {
    const { rig, fake } = await slackRig();
    await fake.slashCommand({ text: 'create-key alice --reusable', userId: 'U0OPER', userName: 'oper' });
    const card = await fake.waitFor(() => fake.channelMessages().find((m) => slackButtons(m.blocks).length === 2));
    const requesterUrl = await fake.waitFor(() => fake.responses.find((r) => text(r.body).includes('is waiting for an approver'))?.id);
    await fake.clickButton({ actionId: slackButtons(card.blocks)[0]!.actionId, messageTs: card.ts, userId: 'U0APPR', userName: 'appr' });
    await fake.waitFor(() => card.text.includes('DONE:'));
    const key = rig.hs.state.preAuthKeys[0]!.key;
    const withKey = fake.responses.filter((r) => text(r.body).includes(key));
    expect(withKey).toHaveLength(1);
    expect(withKey[0]!.id).toBe(requesterUrl);
    expect(withKey[0]!.body).toMatchObject({ response_type: 'ephemeral' });
    expect(text(fake.messages)).not.toContain(key);
    expect(text(fake.calls.filter((c) => c.method !== 'apps.connections.open'))).not.toContain(key);
    expect(card.text).toContain(key.split('-').slice(0, 3).join('-'));
  });
});

describe('Discord end to end (discord.js, gateway)', () => {
  it('registers the command, then delete-node is approved by another user and runs once', async () => {
    const { rig, fake } = await discordRig();
    expect(text([...fake.commands.values()])).toContain('delete-node');
    const cmd = fake.slashCommand({ subcommand: 'delete-node', options: { node: 'server' }, userId: D_REQUESTER, userName: 'oper' });
    const card = await fake.waitFor(() => fake.channelMessages().find((m) => discordButtons(m.components).length === 2));
    expect(discordButtons(card.components).map((b) => b.label)).toEqual(['Approve', 'Deny']);
    expect(text(card.embeds)).toContain('delete node 2 (server, user bob)');
    const reply = await fake.waitFor(() => fake.originalReply(cmd));
    expect(reply.flags & 64).toBe(64);

    fake.clickButton({ messageId: card.id, customId: discordButtons(card.components)[0]!.customId, userId: D_APPROVER, userName: 'appr' });
    await fake.waitFor(() => text(card.embeds).includes('DONE'));
    expect(card.components).toHaveLength(0);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/2')).toHaveLength(1);
  });

  it('deny and create-key: denied requests do nothing; an approved key goes to the requester as an ephemeral follow-up', async () => {
    const { rig, fake } = await discordRig();
    fake.slashCommand({ subcommand: 'delete-node', options: { node: '1' }, userId: D_REQUESTER, userName: 'oper' });
    const denyCard = await fake.waitFor(() => fake.channelMessages().find((m) => discordButtons(m.components).length === 2));
    fake.clickButton({ messageId: denyCard.id, customId: discordButtons(denyCard.components)[1]!.customId, userId: D_APPROVER, userName: 'appr' });
    await fake.waitFor(() => text(denyCard.embeds).includes('DENIED'));
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);

    const cmd = fake.slashCommand({ subcommand: 'create-key', options: { user: 'bob', ephemeral: true, expiration: '30m' }, userId: D_REQUESTER, userName: 'oper' });
    const card = await fake.waitFor(() => fake.channelMessages().find((m) => m.id !== denyCard.id && discordButtons(m.components).length === 2));
    const click = fake.clickButton({ messageId: card.id, customId: discordButtons(card.components)[0]!.customId, userId: D_APPROVER, userName: 'appr' });
    await fake.waitFor(() => text(card.embeds).includes('DONE'));
    const key = rig.hs.state.preAuthKeys[0]!.key;
    const carrying = fake.calls.filter((c) => text(c.body).includes(key));
    expect(carrying).toHaveLength(1);
    expect(carrying[0]!.path).toContain(`itoken-${cmd}`);
    expect(carrying[0]!.path).not.toContain(`itoken-${click}`);
    expect((carrying[0]!.body as { flags?: number }).flags! & 64).toBe(64);
    expect(text(fake.channelMessages())).not.toContain(key);
  });
});
