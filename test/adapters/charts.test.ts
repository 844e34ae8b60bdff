import { afterEach, describe, expect, it } from 'vitest';
import { DiscordAdapter } from '../../src/adapters/discord/adapter.js';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { chartAttachment, renderCpuChart } from '../../src/charts/render.js';
import type { ImageAttachment, Message } from '../../src/messages/model.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../fakes/discord/server.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { quietLogger } from './helpers.js';

const alert: Message = { fallback: 'CPU high on tailscale-a', tone: 'critical', blocks: [{ type: 'header', text: 'CRITICAL · cpu-sustained · tailscale-a' }] };

async function chart(): Promise<ImageAttachment> {
  const to = Date.now();
  const points = Array.from({ length: 90 }, (_, i) => ({ at: to - 900_000 + i * 10_000, percent: i > 40 ? 95 : 10 }));
  return chartAttachment(await renderCpuChart({ title: 'CPU · tailscale-a', series: [{ name: 'tailscale-a', points }], threshold: 80, from: to - 900_000, to }), 'CPU, last 15 min');
}

describe('CPU chart delivery through the real clients', () => {
  const stops: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0).reverse()) await s();
  });

  /** The Slack fake and a connected adapter on it, both stopped after the test. */
  async function startSlack() {
    const fake = new FakeSlack({ botToken: 'xoxb-t', appToken: 'xapp-t', pingMs: 1000 });
    await fake.start();
    stops.push(() => fake.stop());
    const slack = new SlackAdapter({ botToken: 'xoxb-t', appToken: 'xapp-t', apiUrl: fake.apiUrl, logger: quietLogger(), clientPingTimeoutMs: 2000 });
    await slack.start();
    stops.push(() => slack.stop());
    return { fake, slack };
  }

  it('Slack: two-step external upload into the alert thread, a PNG of the announced size', async () => {
    const { fake, slack } = await startSlack();

    const ref = await slack.send('C0OPS', alert);
    const image = await chart();
    await slack.attachImage(ref, image);

    expect(fake.callsTo('files.upload')).toHaveLength(0);
    const [announce] = fake.callsTo('files.getUploadURLExternal');
    expect(announce!.args).toMatchObject({ filename: 'cpu-tailscale-a.png', length: String(Buffer.from(image.pngBase64, 'base64').length) });
    expect(fake.uploads).toEqual([{ fileId: expect.stringMatching(/^F/), status: 200 }]);
    const [complete] = fake.callsTo('files.completeUploadExternal');
    expect(complete!.args).toMatchObject({ channel_id: 'C0OPS', thread_ts: ref.messageId });

    const [shared] = fake.threadReplies(ref.messageId);
    expect(shared!.files).toHaveLength(1);
    expect(shared!.files![0]).toMatchObject({ filename: 'cpu-tailscale-a.png', title: 'CPU, last 15 min', png: { width: 800, height: 320 } });
    expect(shared!.files![0]!.bytes!.equals(Buffer.from(image.pngBase64, 'base64'))).toBe(true);
    expect(shared!.files![0]!.altText).toContain('threshold 80 %');
  });

  it('Slack: an upload whose bytes differ from the announced length is refused, and the adapter says so', async () => {
    const { fake, slack } = await startSlack();
    const ref = await slack.send('C0OPS', alert);
    const notPng: ImageAttachment = { ...(await chart()), pngBase64: Buffer.from('GIF89a not a png at all').toString('base64') };
    await expect(slack.attachImage(ref, notPng)).rejects.toThrow(/upload a chart/);
    expect(fake.uploads[0]).toMatchObject({ status: 400, problem: 'file named .png is not a PNG' });
    expect(fake.threadReplies(ref.messageId)).toHaveLength(0);
  });

  it('Discord: the chart is attached to the alert message itself (multipart), replacing an earlier one', async () => {
    const fake = new FakeDiscord({ token: 'dt' });
    await fake.start();
    stops.push(() => fake.stop());
    const discord = new DiscordAdapter({ token: 'dt', applicationId: APP_ID, guildId: GUILD_ID, apiUrl: fake.apiUrl, logger: quietLogger() });
    await discord.start();
    stops.push(() => discord.stop());
    await fake.waitFor(() => discord.status().connected);

    const ref = await discord.send(CHANNEL_ID, alert);
    const image = await chart();
    await discord.attachImage(ref, image);
    await discord.attachImage(ref, image);
    const [posted] = fake.channelMessages();
    expect(posted!.embeds[0]).toMatchObject({ title: 'CRITICAL · cpu-sustained · tailscale-a' }); // untouched
    expect(posted!.attachments).toHaveLength(1);
    expect(posted!.attachments[0]).toMatchObject({ filename: 'cpu-tailscale-a.png', content_type: 'image/png', width: 800, height: 320, size: Buffer.from(image.pngBase64, 'base64').length });
    expect(posted!.attachments[0]!.description).toContain('threshold 80 %');
  });
});
