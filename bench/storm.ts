/**
 * Storm: N nodes flapping for M simulated minutes (injected clock) through the real dispatcher, real SQLite
 * and the real Bolt and discord.js clients against the local fakes. Reports how many channel posts and edits
 * reached each platform, the smallest gap between two of them, and RSS.
 * Run alone: `npx tsx bench/storm.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import type { Alert, AlertTransition } from '../src/alerts/model.js';
import { DiscordAdapter } from '../src/adapters/discord/adapter.js';
import { SlackAdapter } from '../src/adapters/slack/adapter.js';
import { Dispatcher } from '../src/dispatch/dispatcher.js';
import { AlertBatchDestination } from '../src/destinations/destination.js';
import { slackDestination } from '../src/adapters/slack/platform.js';
import { discordDestination } from '../src/adapters/discord/platform.js';
import { Metrics } from '../src/http/metrics.js';
import { Store } from '../src/store/db.js';
import { AlertRepository } from '../src/store/alerts.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../test/fakes/discord/server.js';
import { FakeSlack } from '../test/fakes/slack/server.js';

export interface StormOptions {
  nodes?: number;
  minutes?: number;
  groupWaitMs?: number;
  groupIntervalMs?: number;
  budget?: number;
  /** Where the SQLite file goes (default: the OS temp dir). */
  dbDir?: string;
  /** Store target instead of a SQLite file there: a PostgreSQL URL (the storm test on PostgreSQL). */
  store?: (sqlitePath: string) => string;
}

export interface ChannelFigures {
  posts: number;
  edits: number;
  threadReplies: number;
  /** Smallest time (simulated ms) between two top-level posts, and between two edits; Infinity if < 2. */
  minPostGapMs: number;
  minEditGapMs: number;
  /** Largest number of posts / edits in any window of one group interval. */
  maxPostsPerInterval: number;
  maxEditsPerInterval: number;
  lastDigest: string;
}

export interface StormResult {
  alerts: number;
  transitions: number;
  posts: number;
  edits: number;
  rssMb: number;
  peakRssMb: number;
  /** RSS once everything is connected, before the storm: the storm's own cost is peak − baseline. */
  baselineRssMb: number;
  slack: ChannelFigures;
  discord: ChannelFigures;
  consoleAlerts: number;
  firingAtEnd: number;
  /** Nodes still flapping at the end (what the digest's headline counts). */
  flappingAtEnd: number;
  groupIntervalMs: number;
}

const SLACK_CHANNEL = 'C0STORM';

function figures(times: { post: number[]; edit: number[]; reply: number }, interval: number, lastDigest: string): ChannelFigures {
  const minGap = (xs: number[]) => xs.slice(1).reduce((m, x, i) => Math.min(m, x - xs[i]!), Infinity);
  const maxPer = (xs: number[]) => xs.reduce((m, x, i) => Math.max(m, xs.slice(i).filter((y) => y < x + interval).length), 0);
  return {
    posts: times.post.length,
    edits: times.edit.length,
    threadReplies: times.reply,
    minPostGapMs: minGap(times.post),
    minEditGapMs: minGap(times.edit),
    maxPostsPerInterval: maxPer(times.post),
    maxEditsPerInterval: maxPer(times.edit),
    lastDigest,
  };
}

export async function runStorm(o: StormOptions = {}): Promise<StormResult> {
  const nodes = o.nodes ?? 10_000;
  const durationMs = (o.minutes ?? 5) * 60_000;
  const groupWait = o.groupWaitMs ?? 5_000;
  const groupInterval = o.groupIntervalMs ?? 30_000;
  const dir = mkdtempSync(join(o.dbDir ?? tmpdir(), 'hw-storm-'));
  const logger = pino({ level: 'silent' });
  const fakeSlack = new FakeSlack({ botToken: 'xoxb-storm' });
  const fakeDiscord = new FakeDiscord({ token: 'discord-storm' });
  await fakeSlack.start();
  await fakeDiscord.start();
  const slack = new SlackAdapter({ botToken: 'xoxb-storm', signingSecret: 'storm', apiUrl: fakeSlack.apiUrl, logger });
  const discord = new DiscordAdapter({ token: 'discord-storm', applicationId: APP_ID, guildId: GUILD_ID, apiUrl: fakeDiscord.apiUrl, logger });
  await slack.start();
  await discord.start();
  await fakeDiscord.waitFor(() => discord.status().connected);
  const baselineRss = process.memoryUsage().rss;
  let consoleAlerts = 0;
  const sender = new (class extends AlertBatchDestination {
    readonly name = 'console';
    async send(alerts: Alert[]): Promise<void> {
      consoleAlerts += alerts.length;
    }
  })();
  const t0 = Date.parse('2026-11-26T12:00:00Z');
  let now = t0;
  const store = new Store(o.store ? o.store(join(dir, 'storm.db')) : join(dir, 'storm.db'));
  const dispatcher = new Dispatcher({
    store,
    config: {
      HEADWATCH_ROUTES: undefined,
      HEADWATCH_GROUP_WAIT: groupWait,
      HEADWATCH_GROUP_INTERVAL: groupInterval,
      HEADWATCH_REPEAT_INTERVAL: 4 * 3_600_000,
      HEADWATCH_CHANNEL_BUDGET: o.budget ?? 10,
    },
    logger,
    metrics: new Metrics({ processMetrics: false }),
    destinations: [sender, slackDestination(slack, SLACK_CHANNEL), discordDestination(discord, CHANNEL_ID)],
    clock: () => now,
  });

  // Record when (simulated time) each platform call happened.
  const slackTimes = { post: [] as number[], edit: [] as number[], reply: 0 };
  const discordTimes = { post: [] as number[], edit: [] as number[], reply: 0 };
  let slackSeen = 0;
  let discordSeen = 0;
  const sample = () => {
    for (; slackSeen < fakeSlack.calls.length; slackSeen++) {
      const c = fakeSlack.calls[slackSeen]!;
      if (c.status !== 200 || c.fault) continue;
      if (c.method === 'chat.postMessage') {
        if (c.args['thread_ts']) slackTimes.reply++;
        else slackTimes.post.push(now);
      } else if (c.method === 'chat.update') slackTimes.edit.push(now);
    }
    for (; discordSeen < fakeDiscord.calls.length; discordSeen++) {
      const c = fakeDiscord.calls[discordSeen]!;
      if (c.status >= 300 || c.fault) continue;
      if (c.method === 'POST' && /^\/channels\/\d+\/messages$/.test(c.path)) {
        if (c.path.includes(CHANNEL_ID)) discordTimes.post.push(now);
        else discordTimes.reply++;
      } else if (c.method === 'PATCH' && /^\/channels\/\d+\/messages\/\d+$/.test(c.path)) discordTimes.edit.push(now);
    }
  };

  // The storm: nodes start flapping over the first minute; each flapping alert is updated every 60 s,
  // a third resolve after 2 min and half of those fire again 30 s later; one RATELIMIT flood alert grows
  // by ~41 lines a second.
  const fireAt = (i: number) => Math.floor((i / nodes) * 60_000);
  const byTime = new Map<number, number[]>();
  for (let i = 0; i < nodes; i++) {
    const s = Math.floor(fireAt(i) / 1000);
    const list = byTime.get(s) ?? [];
    list.push(i);
    byTime.set(s, list);
  }
  const alertOf = (i: number, over: Partial<Alert> = {}): Alert => ({
    fingerprint: `node-flapping:node-${i}`,
    kind: 'node-flapping',
    severity: 'warning',
    subject: `node-${i}`,
    summary: `node-${i} reconnected 6 times in 5 min`,
    evidence: [`${new Date(now).toISOString()} node-${i} disconnected`],
    labels: {},
    status: 'firing',
    startsAt: new Date(t0 + fireAt(i)).toISOString(),
    updatedAt: new Date(now).toISOString(),
    endsAt: null,
    occurrences: 1,
    ...over,
  });
  let transitions = 0;
  const handle = (t: AlertTransition) => {
    transitions++;
    dispatcher.handle(t);
  };
  let rlCount = 0;
  let peakRss = 0;
  for (let sec = 0; sec * 1000 < durationMs; sec++) {
    now = t0 + sec * 1000;
    for (const i of byTime.get(sec) ?? []) handle({ change: 'firing', alert: alertOf(i), at: now });
    for (let s = sec - 60; s >= 0; s -= 60) {
      for (const i of byTime.get(s) ?? []) {
        if (sec - s === 120 && i % 3 === 0) handle({ change: 'resolved', alert: alertOf(i, { status: 'resolved', endsAt: new Date(now).toISOString() }), at: now });
        else if (!(i % 3 === 0 && sec - s >= 120)) handle({ change: 'updated', alert: alertOf(i, { summary: `node-${i} reconnected ${6 + (sec - s) / 10} times` }), at: now });
      }
    }
    for (const i of byTime.get(sec - 150) ?? []) if (i % 6 === 0) handle({ change: 'firing', alert: alertOf(i, { occurrences: 2 }), at: now });
    rlCount += 41;
    const rl: Alert = {
      fingerprint: 'ratelimit-flood:headscale',
      kind: 'ratelimit-flood',
      severity: 'critical',
      subject: 'headscale',
      summary: `RATELIMIT ×${rlCount}`,
      evidence: [],
      labels: { count: String(rlCount) },
      status: 'firing',
      startsAt: new Date(t0).toISOString(),
      updatedAt: new Date(now).toISOString(),
      endsAt: null,
      occurrences: 1,
    };
    handle({ change: sec === 0 ? 'firing' : 'updated', alert: rl, at: now });
    await dispatcher.flush();
    sample();
    if (sec % 10 === 0) peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  // Let the last group intervals run out.
  for (let i = 0; i < 3; i++) {
    now += groupInterval;
    await dispatcher.flush();
    sample();
  }
  const rss = process.memoryUsage().rss;
  const firingAtEnd = new AlertRepository(store).firing().length;
  const flappingAtEnd = new AlertRepository(store).firing('node-flapping').length;
  const slackDigest = fakeSlack.channelMessages(SLACK_CHANNEL).find((m) => m.text.includes('Alert storm'))?.text ?? '';
  const discordDigest = JSON.stringify(fakeDiscord.channelMessages(CHANNEL_ID).find((m) => JSON.stringify(m.embeds).includes('Alert storm'))?.embeds ?? []);
  await dispatcher.stop();
  await slack.stop();
  await discord.stop();
  store.close();
  await fakeSlack.stop();
  await fakeDiscord.stop();
  rmSync(dir, { recursive: true, force: true });
  const s = figures(slackTimes, groupInterval, slackDigest);
  const d = figures(discordTimes, groupInterval, discordDigest);
  return {
    alerts: nodes + 1,
    transitions,
    posts: s.posts + d.posts,
    edits: s.edits + d.edits,
    rssMb: rss / 1024 / 1024,
    peakRssMb: Math.max(peakRss, rss) / 1024 / 1024,
    baselineRssMb: baselineRss / 1024 / 1024,
    slack: s,
    discord: d,
    consoleAlerts,
    firingAtEnd,
    flappingAtEnd,
    groupIntervalMs: groupInterval,
  };
}

/** For `npm run bench`: the default storm (10,000 nodes, 5 min, group interval 30 s, 2 channels). */
export async function benchStorm(): Promise<{ alerts: number; posts: number; edits: number; rssMb: number; rssGrowthMb: number; maxPostsPerInterval: number; maxEditsPerInterval: number }> {
  const r = await runStorm();
  // Growth is the storm's own cost; the absolute peak also holds whatever ran earlier in the same process.
  return {
    alerts: r.alerts,
    posts: r.posts,
    edits: r.edits,
    rssMb: r.peakRssMb,
    rssGrowthMb: r.peakRssMb - r.baselineRssMb,
    maxPostsPerInterval: Math.max(r.slack.maxPostsPerInterval, r.discord.maxPostsPerInterval),
    maxEditsPerInterval: Math.max(r.slack.maxEditsPerInterval, r.discord.maxEditsPerInterval),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const t = Date.now();
  const r = await runStorm();
  console.log(JSON.stringify({ ...r, wallMs: Date.now() - t }, null, 2));
  process.exit(0);
}
