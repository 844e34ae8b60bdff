import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { FakeSlack, type SlackMessage } from '../fakes/slack/server.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID, type DiscordMessage } from '../fakes/discord/server.js';
import { startFakeHeadscale } from '../fakes/headscale/index.js';
import { API_KEY, DEFAULT_NODES } from '../interaction/harness.js';

/**
 * The running app with Slack and Discord both configured (the composition root's wiring, not a test rig): a
 * request asked in Slack is shown in Discord's alert channel, approved there, and both cards end DONE; the fake
 * Headscale saw one delete. No Docker engine: the app says so and carries on.
 */
const SLACK_CHANNEL = 'C0ALERTS';
const D_APPROVER = '1400000000000000002';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const text = (v: unknown) => JSON.stringify(v);
const slackButtons = (m: SlackMessage) =>
  (m.blocks as { type: string; elements?: { action_id: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).map((e) => e.action_id);
const discordButtons = (m: DiscordMessage) => (m.components as { components?: { custom_id: string }[] }[]).flatMap((r) => r.components ?? []).map((c) => c.custom_id);

describe('headwatch with Slack and Discord', () => {
  it('an approval asked in Slack is approved from its Discord copy: one delete, both cards DONE', async () => {
    const hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice', 'bob'], nodes: DEFAULT_NODES });
    const slack = new FakeSlack({ botToken: 'xoxb-xp', appToken: 'xapp-xp', pingMs: 1000 });
    const discord = new FakeDiscord({ token: 'discord-xp', heartbeatMs: 1000 });
    await slack.start();
    await discord.start();
    cleanups.push(async () => {
      await slack.stop();
      await discord.stop();
      await hs.close();
    });
    const config = loadConfig({
      dotenvPath: false,
      env: {
        DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
        HEADWATCH_DB: join(mkdtempSync(join(tmpdir(), 'hw-xp-')), 'hw.db'),
        HEADWATCH_HTTP_PORT: '0',
        HEADWATCH_HTTP_HOST: '127.0.0.1',
        HEADWATCH_CONSOLE: 'false',
        HEADSCALE_URL: hs.url,
        HEADSCALE_API_KEY: API_KEY,
        SLACK_BOT_TOKEN: 'xoxb-xp',
        SLACK_APP_TOKEN: 'xapp-xp',
        SLACK_CHANNEL,
        SLACK_API_URL: slack.apiUrl,
        DISCORD_TOKEN: 'discord-xp',
        DISCORD_APPLICATION_ID: APP_ID,
        DISCORD_GUILD_ID: GUILD_ID,
        DISCORD_CHANNEL_ID: CHANNEL_ID,
        DISCORD_API_URL: discord.apiUrl,
        HEADWATCH_OPERATORS: 'slack:U0ALICE',
        HEADWATCH_APPROVERS: `discord:${D_APPROVER}`,
      },
    });
    const app = await createHeadwatch({ config, logger: createLogger('silent') });
    cleanups.push(() => app.stop());
    await app.start();
    await slack.waitFor(() => slack.socketCount > 0, 30_000);
    await discord.waitFor(() => app.chat.every((a) => a.status().connected), 30_000);

    await slack.slashCommand({ text: 'delete-node laptop', userId: 'U0ALICE', userName: 'alice', channelId: SLACK_CHANNEL });
    const slackCard = await slack.waitFor(() => slack.channelMessages(SLACK_CHANNEL).find((m) => slackButtons(m).length === 2));
    const discordCard = await discord.waitFor(() => discord.channelMessages(CHANNEL_ID).find((m) => discordButtons(m).length === 2));
    discord.clickButton({ messageId: discordCard.id, customId: discordButtons(discordCard)[0]!, userId: D_APPROVER, userName: 'dana' });
    await discord.waitFor(() => text(discordCard.embeds).includes('DONE'), 10_000);
    await slack.waitFor(() => slackCard.text.includes('DONE:'), 10_000);
    expect(text(slackCard.blocks)).toContain(`dana (discord:${D_APPROVER})`);
    expect(hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  }, 60_000);
});
