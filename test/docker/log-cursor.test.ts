import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { afterEach, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { describeDocker, removeContainer, testDocker, uniqueName } from '../support/docker.js';
import { WebhookReceiver, type ReceivedAlert } from '../support/webhook-receiver.js';
import { until } from '../support/wait.js';
import { flapLines, printScript, SECRET } from './app-harness.js';
import { runContainer } from './helpers.js';

/**
 * The log cursor across a restart of one process on its SQLite file: a container that keeps logging while
 * headwatch is down has those lines read at the next start (from where the log was left, with their own
 * timestamps), each exactly once.
 */
const docker = testDocker();
let apps: Headwatch[] = [];
let hook: WebhookReceiver | undefined;
let dir: string | undefined;
const containers: string[] = [];
afterEach(async () => {
  for (const a of apps) await a.stop();
  apps = [];
  await hook?.close();
  await Promise.all(containers.splice(0).map((n) => removeContainer(docker, n)));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<Headwatch> {
  const config = loadConfig({
    dotenvPath: false,
    env: {
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      HEADWATCH_DB: join(dir!, 'headwatch.db'),
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_WEBHOOK_URL: hook!.url,
      HEADWATCH_WEBHOOK_SECRET: SECRET,
      HEADWATCH_CONSOLE: 'false',
      LOG_LEVEL: 'silent',
      FLAP_COUNT: '12',
      FLAP_WINDOW_SECONDS: '120',
      ...env,
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  apps.push(app);
  await app.start();
  return app;
}

async function stop(app: Headwatch): Promise<void> {
  await app.stop();
  apps = apps.filter((a) => a !== app);
}

/** Lines the app read from its containers (parsed or not), from its own counter. */
async function linesRead(app: Headwatch): Promise<number> {
  return (await app.metrics.logLines.get()).values.reduce((n, v) => n + v.value, 0);
}

/** Lets the container print the second part of its script (it waits for /tmp/go). */
async function release(c: Docker.Container): Promise<void> {
  const exec = await c.exec({ Cmd: ['sh', '-c', ': > /tmp/go'] });
  await exec.start({ Detach: true });
}

async function logged(c: Docker.Container, text: string): Promise<boolean> {
  const out = (await c.logs({ stdout: true, stderr: true, follow: false })) as unknown as Buffer;
  return out.toString('utf8').split(text).length - 1 >= 8;
}

const flapsOf = (node: string) => (a: ReceivedAlert) => a.kind === 'node-flapping' && a.subject.includes(node);

describeDocker('the log cursor across a restart (one process, SQLite)', () => {
  it('a flap logged while headwatch was down is alerted once after the start, and nothing read before is read or alerted again', { timeout: 60_000 }, async () => {
    hook = await WebhookReceiver.start({ secret: SECRET });
    dir = mkdtempSync(join(tmpdir(), 'hw-cursor-'));
    const hs = uniqueName('headscale');
    containers.push(hs);
    const env = { HEADSCALE_CONTAINER: hs, TAILSCALE_CONTAINERS: uniqueName('none') };
    const before = `before-${Math.random().toString(36).slice(2, 8)}`;
    const during = `during-${Math.random().toString(36).slice(2, 8)}`;
    const first = flapLines(7, before, 8);
    const second = flapLines(8, during, 8);
    const script = printScript(first, `while [ ! -f /tmp/go ]; do sleep 0.1; done; ${printScript(second).at(-1)}`);

    const app1 = await start(env);
    const c = await runContainer(docker, { name: hs, cmd: script });
    await hook.waitForAlert(`node-flapping for ${before}`, (a) => flapsOf(before)(a) && a.status === 'firing');
    await until('the first part read', async () => (await linesRead(app1)) >= first.length, 30_000, 50);
    expect(await linesRead(app1)).toBe(first.length);
    await stop(app1);

    // While nobody reads: the node flaps in the container's log.
    await release(c);
    await until(`${during} in the container's log`, () => logged(c, during), 30_000, 100);
    const downUntil = Date.now();
    const postsBefore = hook.posts.length;

    const app2 = await start(env);
    const alert = await hook.waitForAlert(`node-flapping for ${during}, logged during the downtime`, (a) => flapsOf(during)(a) && a.status === 'firing');
    expect(alert.signatureValid).toBe(true);
    // Judged at the lines' own times, which are before this process started.
    expect(Date.parse(alert.startsAt)).toBeLessThan(downUntil);
    await new Promise((r) => setTimeout(r, 2000)); // a repeat would have arrived by now
    const after = hook.posts.slice(postsBefore).flatMap((p) => p.json?.alerts ?? []);
    expect(after.filter((a) => a.kind === 'node-flapping' && a.subject.includes(during) && a.status === 'firing')).toHaveLength(1);
    expect(after.filter((a) => a.kind === 'node-flapping' && a.subject.includes(before))).toEqual([]);
    // Every line of the downtime read once, none of those read before the stop.
    expect(await linesRead(app2)).toBe(second.length);
  });

  it('a container recreated while headwatch was down (another id) is read from its own first line: a flap it logged before the start is alerted', { timeout: 60_000 }, async () => {
    hook = await WebhookReceiver.start({ secret: SECRET });
    dir = mkdtempSync(join(tmpdir(), 'hw-cursor-'));
    const hs = uniqueName('headscale');
    containers.push(hs);
    const env = { HEADSCALE_CONTAINER: hs, TAILSCALE_CONTAINERS: uniqueName('none') };
    const app1 = await start(env);
    const old = await runContainer(docker, { name: hs, cmd: printScript([{ text: 'an old container line' }, { text: 'another one' }]) });
    await until('the old container read', async () => (await linesRead(app1)) >= 2, 30_000, 50);
    await stop(app1);

    // Recreated under the same name while nobody reads; it logs a flap at once.
    await old.remove({ force: true });
    const node = `recreated-${Math.random().toString(36).slice(2, 8)}`;
    const lines = flapLines(9, node, 8);
    const fresh = await runContainer(docker, { name: hs, cmd: printScript(lines) });
    await until(`${node} in the new container's log`, () => logged(fresh, node), 30_000, 100);

    const app2 = await start(env);
    await hook.waitForAlert(`node-flapping for ${node} from the recreated container`, (a) => flapsOf(node)(a) && a.status === 'firing');
    await until('every line of the new container', async () => (await linesRead(app2)) >= lines.length, 30_000, 50);
    expect(await linesRead(app2)).toBe(lines.length);
  });
});
