import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../fakes/discord/server.js';
import { FakeSlack } from '../fakes/slack/server.js';

/**
 * The whole app (no Docker engine needed: findings are fed as the Docker source would) with the real Bolt and
 * discord.js clients against the fakes: a CPU alert reaches both channels with its chart, and
 * `/headscale report` answers in the channel with the report and its CPU chart.
 */
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(): Promise<{ app: Headwatch; slack: FakeSlack; discord: FakeDiscord }> {
  const slack = new FakeSlack({ botToken: 'xoxb-i', appToken: 'xapp-i', pingMs: 1000 });
  await slack.start();
  cleanups.push(() => slack.stop());
  const discord = new FakeDiscord({ token: 'd-i', heartbeatMs: 1000 });
  await discord.start();
  cleanups.push(() => discord.stop());
  const config = loadConfig({
    dotenvPath: false,
    env: {
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DB: join(mkdtempSync(join(tmpdir(), 'hw-insights-')), 'hw.db'),
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_CONSOLE: 'false',
      SLACK_BOT_TOKEN: 'xoxb-i',
      SLACK_APP_TOKEN: 'xapp-i',
      SLACK_CHANNEL: 'C0OPS',
      SLACK_API_URL: slack.apiUrl,
      DISCORD_TOKEN: 'd-i',
      DISCORD_APPLICATION_ID: APP_ID,
      DISCORD_GUILD_ID: GUILD_ID,
      DISCORD_CHANNEL_ID: CHANNEL_ID,
      DISCORD_API_URL: discord.apiUrl,
      // The chart renders while the alert waits out its group wait; production waits 30 s, 8 s is ample here.
      HEADWATCH_GROUP_WAIT: '8s',
      CPU_SUSTAIN_SECONDS: '60',
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  cleanups.push(() => app.stop());
  await app.start();
  await slack.waitFor(() => slack.socketCount > 0, 30_000);
  await discord.waitFor(() => app.chat.every((a) => a.status().connected), 30_000);
  return { app, slack, discord };
}

describe('charts and the report in the running app', () => {
  it('a CPU alert is posted with its 15-minute chart: in the Slack thread and on the Discord message', async () => {
    const { app, slack, discord } = await start();
    const now = Date.now();
    for (let s = -300; s <= 0; s += 10) {
      app.ingest({ kind: 'cpu-sample', at: now + s * 1000, origin: 'tailscale-a', percent: s < -90 ? 15 : 96, cpus: 0.5 });
    }
    const post = await slack.waitFor(() => slack.channelMessages('C0OPS').find((m) => m.text.includes('cpu-sustained')), 30_000);
    // A CPU alert of a Tailscale container is shown in its incident's message, which carries the chart.
    expect(post.text).toMatch(/Incident #\d+ · tailscale-a/);
    const shared = await slack.waitFor(() => slack.threadReplies(post.ts).find((m) => m.files?.length), 30_000);
    expect(shared.files![0]).toMatchObject({ filename: 'cpu-tailscale-a.png', png: { width: 800, height: 320 } });
    expect(shared.files![0]!.bytes!.length).toBe(shared.files![0]!.length);
    expect(shared.files![0]!.altText).toMatch(/crossed at/);
    const dmsg = await discord.waitFor(() => discord.channelMessages().find((m) => m.attachments.length > 0), 30_000);
    expect(dmsg.attachments[0]).toMatchObject({ filename: 'cpu-tailscale-a.png', width: 800, height: 320, content_type: 'image/png' });
    expect(JSON.stringify(dmsg.embeds)).toContain('cpu-sustained');
  }, 90_000);

  it('/headscale report answers in the channel with the report and its CPU chart', async () => {
    const { app, slack } = await start();
    const now = Date.now();
    for (let s = -600; s <= 0; s += 10) app.ingest({ kind: 'cpu-sample', at: now + s * 1000, origin: 'headscale', percent: 40 + (s % 60 === 0 ? 30 : 0), cpus: 2 });
    await slack.slashCommand({ text: 'report' });
    const answer = await slack.waitFor(() => slack.responses.find((r) => JSON.stringify(r.body).includes('Daily report')), 30_000);
    expect(answer.body['response_type']).toBe('in_channel');
    expect(JSON.stringify(answer.body)).toContain('CPU peaks, last 24 h');
    expect(JSON.stringify(answer.body)).toContain('headscale');
    const upload = await slack.waitFor(() => [...slack.files.values()].find((f) => f.channel === 'C0OPS' && f.bytes), 30_000);
    expect(upload).toMatchObject({ filename: 'cpu-headscale.png', png: { width: 900, height: 340 } });
  }, 90_000);
});
