import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeSlack } from '../fakes/slack/server.js';
import { startFakeHeadscale, type FakeHeadscale } from '../fakes/headscale/index.js';
import { API_KEY } from '../interaction/harness.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { POSTGRES_URL, freshDatabase } from '../support/postgres.js';
import { mulberry32 } from '../support/prng.js';
import { freePort, until as waitUntil } from '../support/wait.js';

/**
 * Three replicas as separate processes (`node --import tsx src/main.ts`, as `npm start`) on one PostgreSQL, with
 * the local Slack server and a webhook receiver; nodes keep joining the fake Headscale (one alert each) while the
 * leader is SIGKILLed at random points. Every alert reaches each destination exactly once (the webhook receiver
 * drops repeats of a delivery id it has seen, as the README tells receivers to), in the order the nodes joined.
 */
const BOT = 'xoxb-failover';
const SECRET = 'failover-signing-secret';
const CHANNEL = 'C0FAILOVER';
const ROOT = resolve(import.meta.dirname, '../..');
const TTL_MS = 6000;
const RENEW_MS = 1500;
const ROUNDS = 10;

interface Replica {
  child: ChildProcess;
  base: string;
  stderr: string[];
  exited: Promise<number | null>;
}

let replicas: Replica[] = [];
let fake: FakeSlack | undefined;
let hs: FakeHeadscale | undefined;
let hook: WebhookReceiver | undefined;
afterEach(async () => {
  for (const r of replicas) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  replicas = [];
  await fake?.stop();
  await hs?.close();
  await hook?.close();
});

// This file's own pace: polls every 50 ms, gives up after 30_000 ms unless told otherwise.
const until = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> =>
  waitUntil(what, fn, timeoutMs, 50);

async function role(r: Replica): Promise<string | undefined> {
  try {
    const res = await fetch(`${r.base}/readyz`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { role?: string }).role;
  } catch {
    return undefined;
  }
}

async function leader(): Promise<Replica | undefined> {
  const roles = await Promise.all(replicas.map(async (r) => ((await role(r)) === 'leader' ? r : undefined)));
  return roles.find(Boolean);
}

async function startReplica(db: string): Promise<Replica> {
  const port = await freePort();
  const stderr: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DATABASE_URL: db,
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_HTTP_PORT: String(port),
      HEADWATCH_CONSOLE: 'false',
      HEADWATCH_WEBHOOK_URL: hook!.url,
      HEADSCALE_URL: hs!.url,
      HEADSCALE_API_KEY: API_KEY,
      HEADSCALE_POLL_SECONDS: '1',
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_CHANNEL: CHANNEL,
      SLACK_API_URL: fake!.apiUrl,
      HEADWATCH_GROUP_WAIT: '1s',
      HEADWATCH_GROUP_INTERVAL: '2s',
      HEADWATCH_CHANNEL_BUDGET: '1000',
      HEADWATCH_LEASE_TTL: `${TTL_MS}ms`,
      HEADWATCH_LEASE_RENEW: `${RENEW_MS}ms`,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const r: Replica = { child, base: `http://127.0.0.1:${port}`, stderr, exited };
  replicas.push(r);
  await until(
    'a replica to answer /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`replica exited (${child.exitCode}): ${stderr.join('')}`);
      return (await fetch(`${r.base}/healthz`).catch(() => undefined))?.ok;
    },
    90_000,
  );
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const joinerOf = (s: string | undefined) => /joiner-\d+/.exec(s ?? '')?.[0];

(POSTGRES_URL ? describe : describe.skip)('three replicas on one PostgreSQL, the leader killed again and again', () => {
  it('every alert reaches Slack and the webhook once, in order; a paused leader that wakes after losing its lease sends nothing', { timeout: 420_000 }, async () => {
    fake = new FakeSlack({ botToken: BOT });
    await fake.start();
    hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice'], nodes: [{ name: 'seed', user: 'alice' }] });
    hook = await WebhookReceiver.start();
    const db = await freshDatabase();
    await Promise.all([startReplica(db), startReplica(db), startReplica(db)]);
    await until('a leader', leader, 30_000);
    // The first node list ever is the baseline (nodes already there are not news); changes after it are alerts.
    const polls = () => hs!.requestsTo('GET', '/api/v1/node').length;
    const first = polls();
    await until('two node lists from the leader', () => polls() >= first + 2, 30_000);

    // Alerts firing continuously: a node joins every 1.5 s for as long as the test runs.
    const added: string[] = [];
    let joining = true;
    const joiner = (async () => {
      while (joining) {
        const name = `joiner-${added.length + 1}`;
        hs!.addNode({ name, user: 'alice' });
        added.push(name);
        await sleep(1500);
      }
    })();

    const random = mulberry32(15);
    const takeovers: number[] = [];
    let restarting: Promise<Replica>[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      // Two standbys up before each kill (a restarted replica needs a while to start on a loaded machine).
      await Promise.all(restarting);
      restarting = [];
      const old = await until('a leader', leader, 30_000);
      await sleep(500 + Math.floor(random() * 2500)); // a random point of its work
      const killedAt = Date.now();
      old.child.kill('SIGKILL');
      await old.exited;
      replicas = replicas.filter((r) => r !== old);
      const next = await until('another replica to lead', leader, 30_000).catch((err: Error) => {
        const why = replicas.map((r, i) => `replica ${i} (exit ${r.child.exitCode}): ${r.stderr.join('').slice(-1500)}`).join('\n');
        throw new Error(`${err.message}\n${why}`);
      });
      takeovers.push(Date.now() - killedAt);
      expect(next).not.toBe(old);
      console.log(`[failover] round ${round}: takeover ${takeovers.at(-1)} ms`);
      restarting.push(startReplica(db)); // its supervisor brings it back, as a standby
    }

    await Promise.all(restarting);
    // A paused leader (SIGSTOP) keeps its connection but not its lease; after waking it must send nothing.
    const paused = await until('a leader', leader, 30_000);
    paused.child.kill('SIGSTOP');
    const stoppedAt = Date.now();
    replicas = replicas.filter((r) => r !== paused);
    await until('another replica to lead while it is paused', leader, 30_000);
    await sleep(Math.max(0, TTL_MS + 2000 - (Date.now() - stoppedAt)));
    const before = { slack: fake.channelMessages(CHANNEL).length, hook: hook.posts.length };
    paused.child.kill('SIGCONT');
    // It noticed the lost lease and left (its log tail in the message when it did not).
    const pausedExit = await paused.exited;
    expect(pausedExit, `paused leader exited with ${pausedExit}:\n${paused.stderr.join('').slice(-3000)}`).toBe(75);
    expect(paused.stderr.join('')).toMatch(/leader lease lost/);

    joining = false;
    await joiner;
    const slackSubjects = () => fake!.channelMessages(CHANNEL).map((m) => joinerOf(m.text)).filter(Boolean);
    const deliveries = () => {
      const seen = new Set<string>();
      const out: string[] = [];
      for (const p of hook!.posts) {
        const id = String(p.headers['x-headwatch-delivery']);
        if (seen.has(id)) continue; // the receiver's duplicate check
        seen.add(id);
        for (const a of p.json?.alerts ?? []) {
          const name = joinerOf(`${a.subject} ${a.summary}`);
          if (a.status === 'firing' && name) out.push(name);
        }
      }
      return out;
    };
    await until('every alert in Slack and at the webhook', () => slackSubjects().length >= added.length && deliveries().length >= added.length, 60_000).catch((err: Error) => {
      const missing = (got: (string | undefined)[]) => added.filter((n) => !got.includes(n)).join(' ');
      throw new Error(`${err.message}; ${added.length} joined; missing in Slack: ${missing(slackSubjects())}; missing at the webhook: ${missing(deliveries())}`);
    });
    await sleep(2000); // a duplicate would have arrived by now
    expect(slackSubjects()).toEqual(added);
    expect(deliveries()).toEqual(added);
    expect(fake.channelMessages(CHANNEL).length).toBeGreaterThanOrEqual(before.slack);
    const repeated = hook.posts.length - new Set(hook.posts.map((p) => String(p.headers['x-headwatch-delivery']))).size;
    const sorted = [...takeovers].sort((a, b) => a - b);
    console.log(
      `[failover] ${ROUNDS} rounds, ${added.length} alerts: takeover p50 ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms; ` +
        `webhook posts repeated (dropped by delivery id): ${repeated}`,
    );
    expect(sorted.at(-1)!).toBeLessThan(15_000);
  });
});
