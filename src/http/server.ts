import Fastify, { type FastifyInstance } from 'fastify';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  /** `required` checks make /readyz fail; others are reported only. */
  required: boolean;
  check(): { ok: boolean; detail?: string };
}

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  checks: ReadinessCheck[];
  /** Extra routes (e.g. Slack's /slack/events in HTTP mode) registered by their owners. */
  register?: ((app: FastifyInstance) => void | Promise<void>)[];
}

/** /healthz (process up), /readyz (dependencies), /metrics (Prometheus). */
export async function startHttpServer(opts: HttpServerOptions): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const results = opts.checks.map((c) => {
      let r: { ok: boolean; detail?: string };
      try {
        r = c.check();
      } catch (err) {
        r = { ok: false, detail: (err as Error).message };
      }
      return { name: c.name, required: c.required, ...r };
    });
    const ready = results.every((r) => r.ok || !r.required);
    reply.code(ready ? 200 : 503);
    return { status: ready ? 'ready' : 'not ready', checks: results };
  });
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', opts.metrics.registry.contentType);
    return opts.metrics.registry.metrics();
  });
  for (const r of opts.register ?? []) await r(app);
  await app.listen({ host: opts.host, port: opts.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { app, port };
}
