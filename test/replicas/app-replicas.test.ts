import { afterEach, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { describeDocker } from '../support/docker.js';
import { POSTGRES_URL, freshDatabase } from '../support/postgres.js';

/**
 * Two replicas of the whole app in one process on one PostgreSQL database and the real Docker engine: one leads,
 * the other stands by; both answer /readyz 200 with their role; the standby takes over when the leader stops.
 */
let apps: Headwatch[] = [];
let hook: WebhookReceiver | undefined;
afterEach(async () => {
  for (const a of apps) await a.stop();
  apps = [];
  await hook?.close();
});

async function start(url: string, webhookUrl: string): Promise<Headwatch> {
  const config = loadConfig({
    dotenvPath: false,
    env: {
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      HEADWATCH_DATABASE_URL: url,
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_WEBHOOK_URL: webhookUrl,
      HEADWATCH_WEBHOOK_SECRET: 'hook-secret',
      HEADWATCH_CONSOLE: 'false',
      HEADWATCH_LEASE_TTL: '3s',
      HEADWATCH_LEASE_RENEW: '500ms',
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  apps.push(app);
  await app.start();
  return app;
}

async function readyz(app: Headwatch): Promise<{ status: number; role: string }> {
  const r = await fetch(`http://127.0.0.1:${app.httpPort}/readyz`);
  return { status: r.status, role: ((await r.json()) as { role: string }).role };
}

async function leaderGauge(app: Headwatch): Promise<string | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${app.httpPort}/metrics`)).text();
  return /^headwatch_leader (\d)$/m.exec(text)?.[1];
}

async function until(what: string, fn: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const line = 'WRN no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.';

(POSTGRES_URL ? describeDocker : describeDocker.skip)('replicas of the app on one PostgreSQL', () => {
  it('one leader and one standby, both ready with their role; the standby takes over and sends with a stable delivery id', async () => {
    hook = await WebhookReceiver.start({ secret: 'hook-secret' });
    const url = await freshDatabase();
    const a = await start(url, hook.url);
    await until('a to lead', () => a.role() === 'leader');
    const b = await start(url, hook.url);
    await new Promise((r) => setTimeout(r, 1200));
    await until('a ready as leader', async () => (await readyz(a)).status === 200);
    expect(await readyz(a)).toEqual({ status: 200, role: 'leader' });
    expect(await readyz(b)).toEqual({ status: 200, role: 'standby' });
    expect([await leaderGauge(a), await leaderGauge(b)]).toEqual(['1', '0']);

    a.ingest({ kind: 'proxy-no-upgrade', at: Date.now(), origin: 'headscale', endpoint: 'ts2021', line });
    await hook.waitForAlert('proxy alert from the leader', (x) => x.kind === 'proxy-misconfigured');
    const first = hook.posts.at(-1)!;
    expect(first.headers['x-headwatch-delivery']).toMatch(/^hw-[\w-]{8,}$/);

    await a.stop();
    apps = apps.filter((x) => x !== a);
    const t0 = Date.now();
    await until('b to lead', () => b.role() === 'leader');
    expect(Date.now() - t0).toBeLessThan(2500); // a clean stop gives the lease back
    await until('b ready as leader', async () => (await readyz(b)).status === 200);
    expect(await readyz(b)).toEqual({ status: 200, role: 'leader' });
    expect(await leaderGauge(b)).toBe('1');
    // The new leader knows the firing alert (same database) and does not announce it again.
    expect(b.alerts.firing().map((x) => x.kind)).toContain('proxy-misconfigured');
    await new Promise((r) => setTimeout(r, 1500));
    expect(hook.alerts().filter((x) => x.kind === 'proxy-misconfigured')).toHaveLength(1);
  }, 60_000);
});
