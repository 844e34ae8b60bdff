import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { startFakeHeadscale } from '../test/fakes/headscale/index.js';
import { WebhookReceiver } from '../test/support/webhook-receiver.js';
import { until } from '../test/support/wait.js';
import { createDatabase } from '../test/support/pg-database.js';
import { alive, replicaRole, startReplicaProcess, type ReplicaProcess } from '../test/support/replica-process.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const API_KEY = 'bench-takeover-api-key-0123456789abcdef';
const waitFor = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number): Promise<T> => until(what, fn, timeoutMs, 50);

export interface TakeoverFigures {
  rounds: number;
  /** Leader SIGKILLed → another replica's /readyz says "leader", per round (ms). */
  roleFlipMs: number[];
  /** Leader SIGKILLed → the new leader's first delivery (a node that joined right after the kill, at the webhook), per round (ms). */
  firstDeliveryMs: number[];
  ttlMs: number;
  renewMs: number;
}

/**
 * Leader takeover on PostgreSQL with the default lease (10 s TTL, 3 s renewal): three replicas as separate
 * processes (as `npm start` runs them), the leader SIGKILLed a few times; per round, the time until another replica
 * reports itself leader and until its first delivery (a node joins the fake Headscale right after the kill; the new
 * leader's poll sees it and the webhook receives the alert). PostgreSQL: HEADWATCH_TEST_DATABASE_URL when set, else a
 * private cluster started with .ci/postgres.sh and stopped afterwards.
 */
export async function benchTakeover(opts: { rounds?: number } = {}): Promise<TakeoverFigures> {
  const rounds = opts.rounds ?? 5;
  const ttlMs = 10_000;
  const renewMs = 3_000;
  let pgDir: string | undefined;
  let server = process.env.HEADWATCH_TEST_DATABASE_URL;
  if (!server) {
    pgDir = mkdtempSync(join(tmpdir(), 'hwbpg.'));
    const { stdout } = await run('bash', [join(ROOT, '.ci/postgres.sh'), 'start', pgDir], { timeout: 120_000 });
    server = /HEADWATCH_TEST_DATABASE_URL='([^']+)'/.exec(stdout)?.[1];
    if (!server) throw new Error(`could not start PostgreSQL: ${stdout}`);
  }
  const replicas: ReplicaProcess[] = [];
  const hook = await WebhookReceiver.start();
  const hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice'], nodes: [{ name: 'seed', user: 'alice' }] });
  try {
    const db = await createDatabase(server, 'hw_bench_takeover');
    const env = {
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DATABASE_URL: db,
      HEADWATCH_CONSOLE: 'false',
      HEADWATCH_WEBHOOK_URL: hook.url,
      HEADSCALE_URL: hs.url,
      HEADSCALE_API_KEY: API_KEY,
      HEADSCALE_POLL_SECONDS: '1',
      HEADWATCH_LEASE_TTL: `${ttlMs}ms`,
      HEADWATCH_LEASE_RENEW: `${renewMs}ms`,
      LOG_LEVEL: 'warn',
    };
    const up = async () => {
      const r = await startReplicaProcess(env);
      replicas.push(r);
      return r;
    };
    const leader = async (): Promise<ReplicaProcess | undefined> => {
      const roles = await Promise.all(replicas.map(async (r) => (alive(r) && (await replicaRole(r)) === 'leader' ? r : undefined)));
      return roles.find(Boolean);
    };
    await Promise.all([up(), up(), up()]);
    await waitFor('a leader', leader, 60_000);
    // The first node list is the baseline; nodes that join after it are alerts.
    const polls = () => hs.requestsTo('GET', '/api/v1/node').length;
    const first = polls();
    await waitFor('two node lists from the leader', () => polls() >= first + 2, 30_000);

    const roleFlipMs: number[] = [];
    const firstDeliveryMs: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      const old = await waitFor('a leader', leader, 60_000);
      await new Promise((r) => setTimeout(r, 1000 + Math.floor(Math.random() * 2000))); // a point of its renewal cycle
      const killedAt = Date.now();
      old.child.kill('SIGKILL');
      await old.exited;
      replicas.splice(replicas.indexOf(old), 1);
      const node = `takeover-${round}`;
      hs.addNode({ name: node, user: 'alice' });
      const flipped = waitFor('another replica to lead', leader, 60_000).then(() => Date.now() - killedAt);
      const delivered = waitFor(
        `the alert for ${node}`,
        () => hook.alerts().some((a) => a.status === 'firing' && `${a.subject} ${a.summary}`.includes(node)),
        60_000,
      ).then(() => Date.now() - killedAt);
      const [flip, delivery] = await Promise.all([flipped, delivered]);
      roleFlipMs.push(flip);
      firstDeliveryMs.push(delivery);
      process.stderr.write(`[bench] takeover round ${round}: leader ${flip} ms, first delivery ${delivery} ms\n`);
      await up(); // its supervisor brings it back, as a standby
    }
    return { rounds, roleFlipMs, firstDeliveryMs, ttlMs, renewMs };
  } finally {
    for (const r of replicas) if (alive(r)) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await hook.close();
    await hs.close();
    if (pgDir) {
      await run('bash', [join(ROOT, '.ci/postgres.sh'), 'stop', pgDir], { timeout: 60_000 }).catch(() => undefined);
      rmSync(pgDir, { recursive: true, force: true });
    }
  }
}

/** The median and the largest of a series. */
export function p50max(xs: number[]): { p50: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: s[Math.floor(s.length / 2)] ?? Number.NaN, max: s.at(-1) ?? Number.NaN };
}
