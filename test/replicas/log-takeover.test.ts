import type Docker from 'dockerode';
import { afterEach, expect, it } from 'vitest';
import { POSTGRES_URL, freshDatabase } from '../support/postgres.js';
import { describeDocker, removeContainer, testDocker, uniqueName } from '../support/docker.js';
import { WebhookReceiver, type ReceivedAlert } from '../support/webhook-receiver.js';
import { alive, replicaRole, startReplicaProcess, type ReplicaProcess } from '../support/replica-process.js';
import { until } from '../support/wait.js';
import { flapLines, printScript, SECRET } from '../docker/app-harness.js';
import { runContainer } from '../docker/helpers.js';

/**
 * Two replicas (separate processes) on one PostgreSQL watching a real container. The leader is SIGKILLed and the
 * node flaps in the container's log during the takeover gap, while nobody reads it: the new leader resumes the log
 * from the old leader's cursor, so that flap is alerted (once) and nothing the old leader had read is read again.
 */
const docker = testDocker();
const TTL_MS = 6000;
let replicas: ReplicaProcess[] = [];
let hook: WebhookReceiver | undefined;
const containers: string[] = [];
afterEach(async () => {
  for (const r of replicas) if (alive(r)) r.child.kill('SIGKILL');
  replicas = [];
  await hook?.close();
  await Promise.all(containers.splice(0).map((n) => removeContainer(docker, n)));
});

/** headwatch_log_lines_total summed, from the replica's /metrics. */
async function linesRead(r: ReplicaProcess): Promise<number> {
  const text = await (await fetch(`${r.base}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith('headwatch_log_lines_total{'))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

async function logged(c: Docker.Container, text: string, times: number): Promise<boolean> {
  const out = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return out.toString('utf8').split(text).length - 1 >= times;
}

const flapsOf = (node: string) => (a: ReceivedAlert) => a.kind === 'node-flapping' && a.subject.includes(node);

(POSTGRES_URL ? describeDocker : describeDocker.skip)('a leader takeover while a container logs (PostgreSQL, real engine)', () => {
  it('a flap logged during the takeover gap is alerted once by the new leader, which reads on from the old one\'s cursor', { timeout: 120_000 }, async () => {
    hook = await WebhookReceiver.start({ secret: SECRET });
    const db = await freshDatabase();
    const hs = uniqueName('headscale');
    containers.push(hs);
    const env = {
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      HEADWATCH_DATABASE_URL: db,
      HEADWATCH_WEBHOOK_URL: hook.url,
      HEADWATCH_WEBHOOK_SECRET: SECRET,
      HEADWATCH_CONSOLE: 'false',
      HEADSCALE_CONTAINER: hs,
      TAILSCALE_CONTAINERS: uniqueName('none'),
      FLAP_COUNT: '12',
      FLAP_WINDOW_SECONDS: '120',
      HEADWATCH_LEASE_TTL: `${TTL_MS}ms`,
      HEADWATCH_LEASE_RENEW: '1500ms',
      LOG_LEVEL: 'warn',
    };
    replicas = await Promise.all([startReplicaProcess(env), startReplicaProcess(env)]);
    const leaderOf = async () => {
      for (const r of replicas) if (alive(r) && (await replicaRole(r)) === 'leader') return r;
      return undefined;
    };
    const old = await until('a leader', leaderOf, 30_000, 50);
    const standby = replicas.find((r) => r !== old)!;
    expect(await replicaRole(standby)).toBe('standby');

    const before = `before-${Math.random().toString(36).slice(2, 8)}`;
    const during = `during-${Math.random().toString(36).slice(2, 8)}`;
    const first = flapLines(7, before, 8);
    const second = flapLines(8, during, 8);
    const c = await runContainer(docker, { name: hs, cmd: printScript(first, `while [ ! -f /tmp/go ]; do sleep 0.05; done; ${printScript(second).at(-1)}`) });
    await hook.waitForAlert(`node-flapping for ${before} from the first leader`, (a) => flapsOf(before)(a) && a.status === 'firing', 30_000);
    await until('the first leader to read the whole first part', async () => (await linesRead(old)) >= first.length, 15_000, 100);
    await new Promise((r) => setTimeout(r, 1500)); // its cursor is written once a second

    const killedAt = Date.now();
    old.child.kill('SIGKILL');
    await old.exited;
    const postsBefore = hook.posts.length;
    // The node flaps while nobody reads the log: the old leader is dead, the standby does not hold the lease yet.
    const exec = await c.exec({ Cmd: ['sh', '-c', ': > /tmp/go'] });
    await exec.start({ Detach: true });
    await until(`${during} in the container's log`, () => logged(c, during, 8), 30_000, 50);
    expect(await replicaRole(standby)).toBe('standby');

    await until('the standby to lead', async () => (await replicaRole(standby)) === 'leader', 30_000, 50).catch((err: Error) => {
      throw new Error(`${err.message}: ${standby.stderr.join('').slice(-2000)}`);
    });
    const takeoverMs = Date.now() - killedAt;
    const alert = await hook.waitForAlert(`node-flapping for ${during}, logged during the gap`, (a) => flapsOf(during)(a) && a.status === 'firing', 30_000);
    const deliveredMs = Date.now() - killedAt;
    expect(alert.signatureValid).toBe(true);
    expect(Date.parse(alert.startsAt)).toBeLessThan(killedAt + takeoverMs); // judged at the lines' own times, in the gap
    console.log(`[log-takeover] leader SIGKILL → new leader ${takeoverMs} ms, → the gap's flap delivered ${deliveredMs} ms (lease TTL ${TTL_MS} ms)`);

    await new Promise((r) => setTimeout(r, 2000)); // a repeat would have arrived by now
    const after = hook.posts.slice(postsBefore).flatMap((p) => p.json?.alerts ?? []);
    expect(after.filter((a) => a.kind === 'node-flapping' && a.subject.includes(during) && a.status === 'firing')).toHaveLength(1);
    expect(after.filter((a) => a.kind === 'node-flapping' && a.subject.includes(before) && a.status === 'firing')).toEqual([]);
    // The new leader read the gap's lines, each once, and none the old leader had read.
    expect(await linesRead(standby)).toBe(second.length);
    expect(takeoverMs).toBeLessThan(15_000);
  });
});
