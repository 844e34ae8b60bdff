import type { ReadinessCheck, RouteHandler } from '../http/server.js';
import type { Role } from './leader.js';

/** On a standby only the store is checked: it watches nothing (the leader does), and it is ready to take over. */
export function standbyAware(checks: ReadinessCheck[], role: () => Role): ReadinessCheck[] {
  return checks.map((c) =>
    c.name === 'store' ? c : { ...c, check: () => (role() === 'leader' ? c.check() : { ok: true, detail: 'standby: the leader watches this' }) },
  );
}

/** A route only the leader may answer (it acts on chat); a standby says so with 503, which Slack retries. */
export function leaderOnly(handler: RouteHandler, role: () => Role): RouteHandler {
  return (req, res) => {
    if (role() === 'leader') return handler(req, res);
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end(JSON.stringify({ error: 'this replica is a standby; the leader answers Slack' }));
  };
}
