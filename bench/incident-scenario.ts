/**
 * The seed failure, end to end: a "headscale" container logging one node's flapping, a "tailscale" container for
 * that node (matched by TS_HOSTNAME) at high CPU printing `control: [v\x00JSON]` RATELIMIT storm lines, whose
 * `tailscale version` is 1.84 while the fake Headscale is a pinned 0.23 — on the real Docker engine, through
 * the whole app and the real Bolt and discord.js clients against the local fakes, with a signed webhook.
 * Used by test/e2e/incident.e2e.test.ts (assertions) and `npm run bench -- incident` (time to incident,
 * Approve → online). Needs DOCKER_HOST and the busybox test image (.ci/dockerd.sh).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { createHeadwatch, type Headwatch } from '../src/app.js';
import { loadConfig } from '../src/config/load.js';
import { dockerClient } from '../src/sources/docker/host.js';
import { createLogger } from '../src/log/logger.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID, type DiscordMessage } from '../test/fakes/discord/server.js';
import { startFakeHeadscale, type FakeHeadscale } from '../test/fakes/headscale/index.js';
import { FakeSlack, type SlackMessage } from '../test/fakes/slack/server.js';
import { WebhookReceiver } from '../test/support/webhook-receiver.js';
import { until } from '../test/support/wait.js';

export const TEST_IMAGE = 'headwatch-test/busybox:1';
export const SLACK_CHANNEL = 'C0INCIDENT';
export const OPERATOR = { slack: 'U0OPER', name: 'oper' };
export const APPROVER = { slack: 'U0APPR', name: 'appr' };
export const D_OPERATOR = '1300000000000000001';
export const D_APPROVER = '1300000000000000002';
const API_KEY = 'hskey-api-incidentscn-0123456789abcdef0123456789abcdef0123456789abcdef0123456789';
const WEBHOOK_SECRET = 'incident-scenario-webhook-secret';
export const LOGIN_SERVER = 'https://hs.example.com';

/** `tailscale`: `version` prints 1.84.0 (tailscale.md §6.1); `up` records its argv and ends the storm. */
const TAILSCALE_SCRIPT = [
  '#!/bin/sh',
  'case "$1" in',
  '  version) echo 1.84.0; echo "  tailscale commit: 0123abcd"; echo "  go version: go1.24.1" ;;',
  '  up) for a in "$@"; do echo "$a"; done > /tmp/argv; : > /tmp/stop ;;',
  'esac',
  'exit 0',
].join('\n');

/** tailscaled at full CPU, printing the map-response storm with rising dropped counts until /tmp/stop. */
const TAILSCALE_MAIN = [
  // `env` too: the playbook reads containerboot's settings with it, as in the real image.
  'printf "%s\\n" "$TS_SCRIPT" > /bin/tailscale && busybox chmod 755 /bin/tailscale && busybox ln -sf busybox /bin/env',
  '( while [ ! -f /tmp/stop ]; do :; done ) &',
  'n=0',
  // The message rides in $STORM as an argument, so no printf escape ever touches its literal `\x00`.
  'while [ ! -f /tmp/stop ]; do n=$((n+37)); printf "%s %s (%d dropped)\\n" "$(date -u "+%Y/%m/%d %H:%M:%S")" "$STORM" "$n"; sleep 1; done',
  'exec sleep 3600',
].join('\n');

/** Headscale 0.23's poll lines (headscale.md §11) for node 1, connect/disconnect pairs while /tmp/flap exists. */
const HEADSCALE_MAIN = [
  'i=0',
  'while :; do',
  '  if [ -f /tmp/flap ]; then',
  '    i=$((i+1)); t=$(date -u +%Y-%m-%dT%H:%M:%SZ)',
  '    echo "$t INF hscontrol/poll.go:602 > node has connected, mapSession: 0xc0000f3c80, chan: 0xc00030d$i node=nas-01 node.id=1 omitPeers=false readOnly=false stream=true"',
  '    sleep 0.4',
  '    echo "$t INF hscontrol/poll.go:602 > node has disconnected, mapSession: 0xc0000f3c80, chan: 0xc00030d$i node=nas-01 node.id=1 omitPeers=false readOnly=false stream=true"',
  '  fi',
  '  sleep 0.4',
  'done',
].join('\n');

export interface ScenarioParts {
  app: Headwatch;
  hs: FakeHeadscale;
  slack: FakeSlack;
  discord: FakeDiscord;
  webhook: WebhookReceiver;
  docker: Docker;
  headscaleContainer: string;
  tailscaleContainer: string;
  close(): Promise<void>;
}

function unique(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Starts the containers, the fakes and headwatch; flapping has not started yet (see startFlapping). */
export async function startScenario(): Promise<ScenarioParts> {
  // Fixtures are made on the raw engine: headwatch itself reaches Docker at DOCKER_HOST, which in CI is the
  // socket proxy that refuses creating containers; HEADWATCH_TEST_ENGINE names the raw engine, as in
  // test/support/docker.ts (not imported: the bench runs outside vitest).
  const docker = dockerClient(process.env.HEADWATCH_TEST_ENGINE || process.env.DOCKER_HOST || undefined);
  const headscaleContainer = unique('hw-inc-headscale');
  const tailscaleContainer = unique('hw-inc-ts');
  const cleanups: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    for (const [name, env, main] of [
      [headscaleContainer, [], HEADSCALE_MAIN],
      [tailscaleContainer, ['TS_HOSTNAME=nas-01', `TS_EXTRA_ARGS=--login-server=${LOGIN_SERVER}`, 'TS_STATE_DIR=/var/lib/tailscale', `TS_SCRIPT=${TAILSCALE_SCRIPT}`, 'STORM=[RATELIMIT] format("control: [v\\x00JSON]%d%s")'], TAILSCALE_MAIN],
    ] as const) {
      const c = await docker.createContainer({ name, Image: TEST_IMAGE, Env: [...env], Cmd: ['sh', '-c', main], HostConfig: { NetworkMode: 'none' } });
      cleanups.push(() => c.remove({ force: true }));
      await c.start();
    }
    const hs = await startFakeHeadscale({ release: '0.23', apiKey: API_KEY, nodes: [{ name: 'nas-01', user: 'alice', online: true }] });
    cleanups.push(() => hs.close());
    const slack = new FakeSlack({ botToken: 'xoxb-incident', appToken: 'xapp-incident', pingMs: 1000 });
    await slack.start();
    cleanups.push(() => slack.stop());
    const discord = new FakeDiscord({ token: 'discord-incident', heartbeatMs: 1000 });
    await discord.start();
    cleanups.push(() => discord.stop());
    const webhook = await WebhookReceiver.start({ secret: WEBHOOK_SECRET });
    cleanups.push(() => webhook.close());

    const config = loadConfig({
      dotenvPath: false,
      env: {
        ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        HEADWATCH_DB: join(mkdtempSync(join(tmpdir(), 'hw-incident-')), 'hw.db'),
        HEADWATCH_HTTP_PORT: '0',
        HEADWATCH_HTTP_HOST: '127.0.0.1',
        HEADWATCH_CONSOLE: 'false',
        HEADWATCH_WEBHOOK_URL: webhook.url,
        HEADWATCH_WEBHOOK_SECRET: WEBHOOK_SECRET,
        HEADSCALE_URL: hs.url,
        HEADSCALE_API_KEY: API_KEY,
        HEADSCALE_POLL_SECONDS: '1',
        HEADSCALE_REDETECT: '3s',
        HEADSCALE_CONTAINER: headscaleContainer,
        TAILSCALE_CONTAINERS: tailscaleContainer,
        HEADWATCH_RESTARTABLE: tailscaleContainer,
        SLACK_BOT_TOKEN: 'xoxb-incident',
        SLACK_APP_TOKEN: 'xapp-incident',
        SLACK_CHANNEL,
        SLACK_API_URL: slack.apiUrl,
        DISCORD_TOKEN: 'discord-incident',
        DISCORD_APPLICATION_ID: APP_ID,
        DISCORD_GUILD_ID: GUILD_ID,
        DISCORD_CHANNEL_ID: CHANNEL_ID,
        DISCORD_API_URL: discord.apiUrl,
        HEADWATCH_OPERATORS: `slack:${OPERATOR.slack},discord:${D_OPERATOR}`,
        // The operator may approve too, just not their own request (approver ≠ requester).
        HEADWATCH_APPROVERS: `slack:${APPROVER.slack},slack:${OPERATOR.slack},discord:${D_APPROVER}`,
        // Detector settings scaled down so the scenario takes a minute, not the production half hour.
        HEADWATCH_GROUP_WAIT: '5s',
        FLAP_COUNT: '4',
        FLAP_WINDOW_SECONDS: '20',
        RATELIMIT_COUNT: '3',
        RATELIMIT_WINDOW_SECONDS: '10',
        CPU_SAMPLE_SECONDS: '1',
        CPU_SUSTAIN_SECONDS: '4',
        CPU_THRESHOLD_PERCENT: '20',
        CPU_CLEAR_MARGIN_PERCENT: '5',
        HEADWATCH_REREGISTER_WAIT: '45s',
      },
    });
    const app = await createHeadwatch({ config, logger: createLogger(process.env.HEADWATCH_SCENARIO_LOG ?? 'silent') });
    cleanups.push(() => app.stop());
    await app.start();
    await slack.waitFor(() => slack.socketCount > 0, 30_000);
    await discord.waitFor(() => app.chat.every((a) => a.status().connected), 30_000);
    return { app, hs, slack, discord, webhook, docker, headscaleContainer, tailscaleContainer, close };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function execIn(docker: Docker, container: string, argv: string[]): Promise<string> {
  const exec = await docker.getContainer(container).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve());
    stream.on('error', reject);
  });
  // Multiplexed frames: 8-byte headers before each payload.
  const all = Buffer.concat(chunks);
  const out: Buffer[] = [];
  for (let i = 0; i + 8 <= all.length; ) {
    const len = all.readUInt32BE(i + 4);
    out.push(all.subarray(i + 8, i + 8 + len));
    i += 8 + len;
  }
  return Buffer.concat(out).toString('utf8');
}

/** The Headscale container starts logging the node's connect/disconnect loop. */
export async function startFlapping(p: ScenarioParts): Promise<number> {
  // The test image has a minimal busybox: no touch or rm links, so the shell does it.
  await execIn(p.docker, p.headscaleContainer, ['sh', '-c', ': > /tmp/flap']);
  return Date.now();
}

export async function stopFlapping(p: ScenarioParts): Promise<void> {
  await execIn(p.docker, p.headscaleContainer, ['busybox', 'rm', '-f', '/tmp/flap']);
}

export const isIncident = (text: string) => /Incident #\d+/.test(text);
export const slackIncidents = (p: ScenarioParts): SlackMessage[] => p.slack.channelMessages(SLACK_CHANNEL).filter((m) => !m.thread_ts && isIncident(m.text));
export const discordIncidents = (p: ScenarioParts): DiscordMessage[] => p.discord.channelMessages().filter((m) => isIncident(JSON.stringify(m.embeds)));

export function slackButtons(blocks: unknown[]): { label: string; actionId: string }[] {
  return (blocks as { type: string; elements?: { action_id: string; text: { text: string } }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ label: e.text.text, actionId: e.action_id }));
}

export function discordButtons(components: unknown[]): { label: string; customId: string }[] {
  return (components as { components?: { label: string; custom_id: string }[] }[]).flatMap((row) => row.components ?? []).map((c) => ({ label: c.label, customId: c.custom_id }));
}

// The incident e2e test polls with the same helper as this bench.
export { until };

export interface IncidentFigures {
  /** First flap line → the incident message in Slack, and → all four members in it. */
  timeToIncidentMs: number;
  timeToFullIncidentMs: number;
  /** The approver's click → the approval card saying DONE (node online again with its new id). */
  approveToOnlineMs: number;
}

/** `npm run bench -- incident`: the scenario once, timed (the e2e test asserts what it shows). */
export async function benchIncident(): Promise<IncidentFigures> {
  const p = await startScenario();
  try {
    const flapAt = await startFlapping(p);
    const post = await until('the incident message', () => slackIncidents(p)[0], 120_000, 50);
    const timeToIncidentMs = Date.now() - flapAt;
    const kinds = ['node-flapping', 'cpu-sustained', 'ratelimit-flood', 'version-skew'];
    await until('all four members', () => kinds.every((k) => JSON.stringify(post.blocks).includes(`${k} ·`)), 120_000, 50);
    const timeToFullIncidentMs = Date.now() - flapAt;
    p.hs.upgrade('0.29');
    await until('the skew cleared', () => /✅ version-skew/.test(JSON.stringify(post.blocks)), 120_000);
    const rr = slackButtons(post.blocks).find((b) => b.label === 'Re-register');
    if (!rr) throw new Error('the incident message has no Re-register button');
    await p.slack.clickButton({ actionId: rr.actionId, messageTs: post.ts, userId: OPERATOR.slack, userName: OPERATOR.name });
    const card = await until('the approval card', () => p.slack.channelMessages(SLACK_CHANNEL).find((m) => slackButtons(m.blocks).some((b) => b.label === 'Approve')), 30_000, 50);
    const approvedAt = Date.now();
    await p.slack.clickButton({ actionId: slackButtons(card.blocks)[0]!.actionId, messageTs: card.ts, userId: APPROVER.slack, userName: APPROVER.name });
    await until('tailscale up', async () => (await execIn(p.docker, p.tailscaleContainer, ['cat', '/tmp/argv']).catch(() => '')).includes('--timeout='), 60_000, 50);
    p.hs.addNode({ name: 'nas-01', user: 'alice', online: true });
    await until('the card DONE', () => card.text.includes('DONE:') || card.text.includes('FAILED:'), 120_000, 50);
    if (!card.text.includes('DONE:')) throw new Error(`Re-register did not finish: ${card.text}`);
    return { timeToIncidentMs, timeToFullIncidentMs, approveToOnlineMs: Date.now() - approvedAt };
  } finally {
    await stopFlapping(p).catch(() => undefined);
    await p.close();
  }
}
