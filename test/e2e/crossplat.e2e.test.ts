import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { ChatAdapter, Platform } from '../../src/adapters/chat.js';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { DiscordAdapter } from '../../src/adapters/discord/adapter.js';
import { registerDiscordCommands } from '../../src/adapters/discord/register.js';
import { FakeSlack, type SlackMessage } from '../fakes/slack/server.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID, type DiscordMessage } from '../fakes/discord/server.js';
import { startRig, type Rig } from '../interaction/harness.js';

/**
 * One request, both platforms: with Slack and Discord configured an approval asked on one is shown in both alert
 * channels, a vote on either card counts, and every card ends in the same state. The real Bolt (Socket Mode) and
 * discord.js (gateway) clients against the fakes, the real router and store, the fake Headscale over HTTP.
 */
const BOT = 'xoxb-crossplat-bot';
const APP = 'xapp-crossplat-app';
const D_TOKEN = 'discord-crossplat-token';
const SLACK_ALERTS = 'C0ALERTS';
const D_APPROVER = '1300000000000000002';
const D_ALICE = '1300000000000000003';
const D_OUTSIDER = '1300000000000000004';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const text = (v: unknown) => JSON.stringify(v);

interface Both {
  rig: Rig;
  slack: FakeSlack;
  discord: FakeDiscord;
}

async function bothPlatforms(env: Record<string, string> = {}): Promise<Both> {
  const fakeSlack = new FakeSlack({ botToken: BOT, appToken: APP, pingMs: 1000 });
  const fakeDiscord = new FakeDiscord({ token: D_TOKEN, heartbeatMs: 1000 });
  await fakeSlack.start();
  await fakeDiscord.start();
  const adapters = new Map<Platform, ChatAdapter>();
  const adapter = (p: Platform) => adapters.get(p)!;
  const rig = await startRig({
    env: {
      HEADWATCH_OPERATORS: `slack:U0ALICE,discord:${D_ALICE}`,
      HEADWATCH_APPROVERS: `slack:U0BOB,discord:${D_APPROVER},discord:${D_ALICE}`,
      DISCORD_TOKEN: D_TOKEN,
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_GUILD_ID: GUILD_ID,
      DISCORD_CHANNEL_ID: CHANNEL_ID,
      DISCORD_API_URL: fakeDiscord.apiUrl,
      ...env,
    },
    // As the app wires it (src/app.ts): edits and posts through the adapters, one alert channel per platform.
    router: {
      editMessage: (ref, m) => adapter(ref.platform).edit(ref, m),
      postMessage: (platform, channelId, m) => adapter(platform).send(channelId, m),
      alertChannels: [
        { platform: 'slack', channelId: SLACK_ALERTS },
        { platform: 'discord', channelId: CHANNEL_ID },
      ],
    },
  });
  await registerDiscordCommands(rig.config);
  const slack = new SlackAdapter({ botToken: BOT, appToken: APP, apiUrl: fakeSlack.apiUrl, logger: pino({ level: 'silent' }), clientPingTimeoutMs: 2000 });
  const discord = new DiscordAdapter({ token: D_TOKEN, applicationId: APP_ID, guildId: GUILD_ID, apiUrl: fakeDiscord.apiUrl, logger: pino({ level: 'silent' }) });
  adapters.set('slack', slack);
  adapters.set('discord', discord);
  for (const a of [slack, discord]) a.setHandler(rig.router);
  await slack.start();
  await discord.start();
  await fakeDiscord.waitFor(() => discord.status().connected);
  cleanups.push(async () => {
    await rig.router.stop();
    await slack.stop();
    await discord.stop();
    await fakeSlack.stop();
    await fakeDiscord.stop();
    await rig.close();
  });
  return { rig, slack: fakeSlack, discord: fakeDiscord };
}

function slackButtons(m: SlackMessage): string[] {
  return (m.blocks as { type: string; elements?: { action_id: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).map((e) => e.action_id);
}
function discordButtons(m: DiscordMessage): string[] {
  return (m.components as { components?: { custom_id: string }[] }[]).flatMap((row) => row.components ?? []).map((c) => c.custom_id);
}
const discordText = (m: DiscordMessage) => text(m.embeds);

/** Alice asks in Slack's alert channel; returns both cards once the Discord copy is there. */
async function askInSlack(b: Both, command = 'delete-node laptop'): Promise<{ slackCard: SlackMessage; discordCard: DiscordMessage }> {
  await b.slack.slashCommand({ text: command, userId: 'U0ALICE', userName: 'alice', channelId: SLACK_ALERTS });
  const slackCard = await b.slack.waitFor(() => b.slack.channelMessages(SLACK_ALERTS).find((m) => slackButtons(m).length === 2));
  const discordCard = await b.discord.waitFor(() => b.discord.channelMessages(CHANNEL_ID).find((m) => discordButtons(m).length === 2));
  return { slackCard, discordCard };
}

describe('one approval request on Slack and Discord', () => {
  it('asked in Slack, approved in Discord: both cards end DONE naming the approver, the node deleted once', async () => {
    const b = await bothPlatforms();
    const { slackCard, discordCard } = await askInSlack(b);
    // Same request, same buttons (nonce) on both cards; the requester was told where else it is shown.
    expect(discordButtons(discordCard)).toEqual(slackButtons(slackCard));
    expect(discordText(discordCard)).toContain('delete node 1 (laptop, user alice)');
    expect(discordText(discordCard)).toContain('alice (slack:U0ALICE)');
    await b.slack.waitFor(() => b.slack.responses.some((r) => text(r.body).includes('also shown in the alert channel on Discord')));
    expect(b.slack.channelMessages().filter((m) => slackButtons(m).length === 2)).toHaveLength(1); // asked in the alert channel: one Slack card

    const approve = discordButtons(discordCard)[0]!;
    b.discord.clickButton({ messageId: discordCard.id, customId: approve, userId: D_APPROVER, userName: 'dana' });
    await b.discord.waitFor(() => discordText(discordCard).includes('DONE'));
    await b.slack.waitFor(() => slackCard.text.includes('DONE:'), 10_000);
    for (const shown of [discordText(discordCard), text(slackCard.blocks)]) expect(shown).toContain(`dana (discord:${D_APPROVER})`);
    expect(slackButtons(slackCard)).toHaveLength(0);
    expect(discordButtons(discordCard)).toHaveLength(0);
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);

    // A late click on the Slack card (the other platform) changes nothing and says who approved it.
    await b.slack.clickButton({ actionId: approve, messageTs: slackCard.ts, userId: 'U0BOB', userName: 'bob' });
    await b.slack.waitFor(() => b.slack.responses.some((r) => text(r.body).includes(`is already done (approved by dana (discord:${D_APPROVER}))`)));
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    const events = b.rig.router.audit.last(10).reverse().map((r) => `${r.event}:${r.actor}`);
    expect(events).toEqual(expect.arrayContaining(['requested:slack:U0ALICE', `approved:discord:${D_APPROVER}`, 'executed:headwatch']));
  });

  it('two clicks at once, one per platform, n=1: one run; the other clicker is told it is already approved', async () => {
    const b = await bothPlatforms();
    const { slackCard, discordCard } = await askInSlack(b);
    const approve = slackButtons(slackCard)[0]!;
    const interaction = b.discord.clickButton({ messageId: discordCard.id, customId: approve, userId: D_APPROVER, userName: 'dana' });
    await b.slack.clickButton({ actionId: approve, messageTs: slackCard.ts, userId: 'U0BOB', userName: 'bob' });
    await b.discord.waitFor(() => discordText(discordCard).includes('DONE'));
    await b.slack.waitFor(() => slackCard.text.includes('DONE:'), 10_000);
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);

    // Exactly one of the two was the approver; the other was told privately, naming who approved it.
    const approved = b.rig.router.audit.last(20).filter((r) => r.event === 'approved');
    expect(approved).toHaveLength(1);
    const loserSaw = approved[0]!.actor === 'slack:U0BOB'
      ? await b.discord.waitFor(() => b.discord.callbacksFor(interaction).find((c) => text(c.data).includes('already')) ?? b.discord.calls.find((c) => text(c.body).includes('is already')))
      : await b.slack.waitFor(() => b.slack.responses.find((r) => text(r.body).includes('is already')));
    expect(text(loserSaw)).toMatch(/is already (approved|running|done) \(approved by (bob \(slack:U0BOB\)|dana \(discord:1300000000000000002\))\); nothing was done/);
    for (const shown of [discordText(discordCard), text(slackCard.blocks)]) expect(shown).toContain('1 of 1');
  });

  it('the requester cannot approve from their Discord account; a Discord user without an approver role is refused by Discord’s role list', async () => {
    const b = await bothPlatforms({ HEADWATCH_IDENTITIES: `alice=slack:U0ALICE,discord:${D_ALICE}` });
    const { slackCard, discordCard } = await askInSlack(b);
    const approve = discordButtons(discordCard)[0]!;
    const own = b.discord.clickButton({ messageId: discordCard.id, customId: approve, userId: D_ALICE, userName: 'alice' });
    await b.discord.waitFor(() => b.discord.callbacksFor(own).some((c) => text(c.data).includes('cannot approve your own request')) || b.discord.calls.some((c) => text(c.body).includes('cannot approve your own request')));
    // slack:U0BOB is an approver, discord:U0BOB is not an account headwatch knows: roles are per platform.
    const outsider = b.discord.clickButton({ messageId: discordCard.id, customId: approve, userId: D_OUTSIDER, userName: 'U0BOB' });
    await b.discord.waitFor(() => b.discord.callbacksFor(outsider).some((c) => text(c.data).includes('not allowed to approve')) || b.discord.calls.some((c) => text(c.body).includes(`discord:${D_OUTSIDER}) are not allowed to approve`)));
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);
    expect(b.rig.router.approvals.pending()).toHaveLength(1);
    expect(slackButtons(slackCard)).toHaveLength(2);
    expect(b.rig.router.audit.last(5).map((r) => `${r.event}:${r.actor}:${String(r.detail['reason'] ?? '')}`)).toEqual(
      expect.arrayContaining([`click-rejected:discord:${D_ALICE}:self-approval`, `refused:discord:${D_OUTSIDER}:not an approver (approve)`]),
    );
  });

  it('Discord down while the Slack approval completes: Slack is not held up, and the Discord card is redrawn once Discord is back', async () => {
    const b = await bothPlatforms();
    const { slackCard, discordCard } = await askInSlack(b);
    b.discord.fail({ match: /^PATCH \/channels\/\d+\/messages\/\d+$/, kind: 'status', status: 503, times: 1000 });
    await b.slack.clickButton({ actionId: slackButtons(slackCard)[0]!, messageTs: slackCard.ts, userId: 'U0BOB', userName: 'bob' });
    await b.slack.waitFor(() => slackCard.text.includes('DONE:'));
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    await b.discord.waitFor(() => b.discord.faults.hits >= 2); // tried, and tried again
    expect(discordButtons(discordCard)).toHaveLength(2); // still showing the pending request
    expect(b.rig.router.approvals.withStaleCards()).toHaveLength(1);

    b.discord.heal();
    await b.discord.waitFor(() => discordText(discordCard).includes('DONE'), 20_000);
    expect(discordText(discordCard)).toContain('bob (slack:U0BOB)');
    expect(discordButtons(discordCard)).toHaveLength(0);
    await b.discord.waitFor(() => b.rig.router.approvals.withStaleCards().length === 0); // recorded as drawn once Discord answered
    expect(b.rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  }, 40_000);
});
