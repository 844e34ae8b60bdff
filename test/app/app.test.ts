import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/**
 * The whole app without a Docker engine: it must start, say clearly that Docker is missing, keep serving its
 * endpoints, deliver alerts from other sources, and keep firing alerts across a restart without re-announcing them.
 */
let apps: Headwatch[] = [];
let hook: WebhookReceiver | undefined;
afterEach(async () => {
  for (const a of apps) await a.stop();
  apps = [];
  await hook?.close();
});

async function start(db: string, webhookUrl: string): Promise<Headwatch> {
  const config = loadConfig({
    dotenvPath: false,
    env: {
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DB: db,
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_WEBHOOK_URL: webhookUrl,
      HEADWATCH_WEBHOOK_SECRET: 'hook-secret',
      HEADWATCH_CONSOLE: 'false',
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  apps.push(app);
  await app.start();
  return app;
}

const line = 'WRN no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.';

describe('headwatch without a Docker engine', () => {
  it('serves /healthz, explains in /readyz that Docker is unreachable, and exposes metrics', async () => {
    hook = await WebhookReceiver.start({ secret: 'hook-secret' });
    const app = await start(join(mkdtempSync(join(tmpdir(), 'hw-app-')), 'hw.db'), hook.url);
    const base = `http://127.0.0.1:${app.httpPort}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
    expect(body.checks.find((c) => c.name === 'docker')).toMatchObject({ ok: false, detail: expect.stringContaining('no-such-docker.sock') });
    expect(body.checks.find((c) => c.name === 'store')).toMatchObject({ ok: true });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('headwatch_dependency_up{dependency="docker"} 0');
  });

  it('delivers an alert from a finding to the signed webhook, and a restart neither forgets nor re-announces it', async () => {
    hook = await WebhookReceiver.start({ secret: 'hook-secret' });
    const db = join(mkdtempSync(join(tmpdir(), 'hw-app-')), 'hw.db');
    const first = await start(db, hook.url);
    first.ingest({ kind: 'proxy-no-upgrade', at: Date.now(), origin: 'headscale', endpoint: 'ts2021', line });
    const alert = await hook.waitForAlert('proxy alert', (a) => a.kind === 'proxy-misconfigured');
    expect(alert).toMatchObject({ status: 'firing', signatureValid: true, evidence: [line] });
    await first.stop();
    apps = [];
    const posts = hook.alerts().length;

    const second = await start(db, hook.url);
    expect(second.alerts.firing().map((a) => a.fingerprint)).toEqual([alert.fingerprint]);
    await new Promise((r) => setTimeout(r, 1500)); // a few engine and dispatcher ticks
    expect(hook.alerts()).toHaveLength(posts);
    const metrics = await (await fetch(`http://127.0.0.1:${second.httpPort}/metrics`)).text();
    expect(metrics).toContain('headwatch_alerts{kind="proxy-misconfigured",status="firing"} 1');
  });
});
