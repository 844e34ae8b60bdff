import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { describeDocker, removeContainer, uniqueName, testDocker } from '../support/docker.js';
import { flapLines, printScript } from './app-harness.js';
import { runContainer } from './helpers.js';

/**
 * Issue 8 (1): every chat platform unreachable when headwatch starts (a host reboot during a Slack outage).
 * Watching must not wait on chat: the Docker source runs within seconds and a flapping node reaches the console,
 * while the chat adapters keep trying in the background.
 */
const docker = testDocker();
let app: Headwatch | undefined;
let dir: string | undefined;
const containers: string[] = [];
afterEach(async () => {
  await app?.stop();
  app = undefined;
  for (const c of containers.splice(0)) await removeContainer(docker, c);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** A port that refuses connections: bound once, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describeDocker('chat platforms unreachable at start', () => {
  it('watches from the first seconds: docker connected, flapping alert on the console, Slack and Discord retried in the background', async () => {
    const hs = uniqueName('headscale');
    containers.push(hs);
    const node = `flappy-${Math.random().toString(36).slice(2, 8)}`;
    dir = mkdtempSync(join(tmpdir(), 'hw-chatdown-'));
    const dead = `http://127.0.0.1:${await closedPort()}`;
    const consoleLines: string[] = [];
    const config = loadConfig({
      dotenvPath: false,
      env: {
        ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
        HEADWATCH_DB: join(dir, 'headwatch.db'),
        HEADWATCH_HTTP_HOST: '127.0.0.1',
        HEADWATCH_HTTP_PORT: '0',
        HEADSCALE_CONTAINER: hs,
        TAILSCALE_CONTAINERS: uniqueName('none'),
        FLAP_COUNT: '12',
        FLAP_WINDOW_SECONDS: '60',
        SLACK_BOT_TOKEN: 'xoxb-down',
        SLACK_APP_TOKEN: 'xapp-down',
        SLACK_CHANNEL: 'C0ALERTS',
        SLACK_API_URL: `${dead}/api/`,
        DISCORD_TOKEN: 'discord-down',
        DISCORD_APPLICATION_ID: '100',
        DISCORD_GUILD_ID: '200',
        DISCORD_CHANNEL_ID: '300',
        DISCORD_API_URL: `${dead}/api`,
        LOG_LEVEL: 'silent',
      },
    });
    app = await createHeadwatch({ config, logger: createLogger('silent'), consoleOut: { write: (s: string) => consoleLines.push(s) } });
    const t0 = Date.now();
    const started = app.start();
    const startMs = await Promise.race([started.then(() => Date.now() - t0), new Promise<number>((r) => setTimeout(() => r(-1), 5000))]);
    // start() returns once watching runs; chat connects in the background.
    expect(startMs).toBeGreaterThanOrEqual(0);
    expect(startMs).toBeLessThanOrEqual(2000);
    const ready = (await (await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).json()) as { checks: { name: string; ok: boolean }[] };
    expect(ready.checks.find((c) => c.name === 'docker')).toMatchObject({ ok: true });
    expect(ready.checks.find((c) => c.name === 'slack')).toMatchObject({ ok: false });
    expect(ready.checks.find((c) => c.name === 'discord')).toMatchObject({ ok: false });

    await runContainer(docker, { name: hs, cmd: printScript(flapLines(7, node, 8)) });
    const seen = Date.now();
    for (;;) {
      if (consoleLines.some((l) => l.includes('node-flapping') && l.includes(node))) break;
      if (Date.now() - seen > 15_000) throw new Error(`no node-flapping line on the console; got: ${consoleLines.join('')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(consoleLines.find((l) => l.includes('node-flapping'))).toContain('FIRING');
    expect(app.dispatcher.status().platforms.map((p) => [p.platform, p.connected])).toEqual([
      ['slack', false],
      ['discord', false],
    ]);
  });
});
