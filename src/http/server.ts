import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../config/errors.js';
import type { Metrics } from './metrics.js';

export interface ReadinessCheck {
  name: string;
  /** `required` checks make /readyz fail; others are reported only. */
  required: boolean;
  check(): { ok: boolean; detail?: string };
}

/** A route's whole handling: it reads the body (if any) itself and answers. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface HttpServerOptions {
  host: string;
  port: number;
  metrics: Metrics;
  checks: ReadinessCheck[];
  /** Extra routes by exact path (e.g. Slack's /slack/events in HTTP mode), answered by their owners. */
  routes?: Record<string, RouteHandler>;
  /** Extra fields of the /readyz body (e.g. the replica's role), read at each request. */
  readyInfo?: () => Record<string, unknown>;
}

export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

/**
 * /healthz (process up), /readyz (dependencies), /metrics (Prometheus), plus the routes owners mount. Three
 * fixed GET endpoints and a pass-through need no framework: node:http keeps start-up and memory small, which
 * matters for a watcher that runs beside the containers it guards (a web framework cost ~20 % of start-up CPU).
 */
export async function startHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const own: Record<string, (res: ServerResponse) => Promise<void> | void> = {
    '/healthz': (res) => json(res, 200, { status: 'ok' }),
    '/readyz': (res) => {
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
      json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', ...opts.readyInfo?.(), checks: results });
    },
    '/metrics': async (res) => {
      const text = await opts.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': opts.metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
    },
  };
  const routes = opts.routes ?? {};

  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const mounted = routes[path];
    if (mounted) return mounted(req, res);
    const handler = own[path];
    if (!handler) return json(res, 404, { error: `no such endpoint: ${path} (try /healthz, /readyz or /metrics)` });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return json(res, 405, { error: `${req.method} is not allowed on ${path}: use GET` });
    }
    // A request body on a GET is read and dropped so the connection can be reused.
    req.resume();
    Promise.resolve(handler(res)).catch((err: unknown) => {
      if (!res.headersSent) json(res, 500, { error: (err as Error).message });
      else res.destroy();
    });
  });
  // Slow or idle clients must not pin sockets forever; Prometheus and probes answer well within these.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenProblem(err, opts.host, opts.port)));
    server.listen(opts.port, opts.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  // HEAD gets the headers only; node:http drops the body for HEAD responses itself.
  res.end(text);
}

/** Turns a failed listen into the setting to change: these addresses come only from HEADWATCH_HTTP_HOST/PORT. */
function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): Error {
  switch (err.code) {
    case 'EADDRINUSE':
      return new ConfigError([`HEADWATCH_HTTP_PORT: port ${port} on ${host} is already in use by another process; stop it or set HEADWATCH_HTTP_PORT to a free port`]);
    case 'EACCES':
      return new ConfigError([`HEADWATCH_HTTP_PORT: this user may not listen on port ${port} (ports below 1024 need privileges); use a port of 1024 or more`]);
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new ConfigError([`HEADWATCH_HTTP_HOST: cannot listen on "${host}" (${err.code}): it is not an address of this machine; use 0.0.0.0, 127.0.0.1 or one of its addresses`]);
    default:
      return err;
  }
}
