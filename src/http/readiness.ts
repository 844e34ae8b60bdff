import type { ChatAdapter } from '../adapters/chat.js';
import type { HeadscalePoller } from '../sources/headscale/poller.js';
import type { DockerHosts } from '../sources/docker/hosts.js';
import type { Store } from '../store/db.js';
import type { ReadinessCheck } from './server.js';

/**
 * /readyz: the Docker engine and the SQLite file are required; chat platforms and Headscale are reported only.
 * With several Docker hosts each is its own check (`docker:<host>`), and required: a host headwatch cannot watch
 * is a headwatch that is not doing its job there.
 */
export function readinessChecks(o: { docker: Pick<DockerHosts, 'status' | 'hosts' | 'several'>; store: Store; chat: ChatAdapter[]; poller: HeadscalePoller | undefined }): ReadinessCheck[] {
  const docker: ReadinessCheck[] = o.docker.several
    ? o.docker.hosts().map((h) => ({
        name: `docker:${h.host}`,
        required: true,
        check: () => {
          const s = o.docker.hosts().find((x) => x.host === h.host);
          return s?.reachable ? { ok: true, detail: s.where } : { ok: false, detail: s?.error ?? `Docker host ${h.host} not reachable` };
        },
      }))
    : [
        {
          name: 'docker',
          required: true,
          check: () => {
            const s = o.docker.status();
            return s.reachable ? { ok: true } : { ok: false, detail: s.error ?? 'Docker engine not reachable' };
          },
        },
      ];
  const checks: ReadinessCheck[] = [
    ...docker,
    {
      name: 'store',
      required: true,
      check: () => {
        const r = o.store.checkWritable();
        if (r.ok) return { ok: true };
        return { ok: false, detail: o.store.dialect === 'postgres' ? `PostgreSQL at ${o.store.where} not answering: ${r.reason}` : `SQLite file ${o.store.where} not writable: ${r.reason}` };
      },
    },
  ];
  for (const a of o.chat) {
    checks.push({
      name: a.platform,
      // A chat outage is reported on the other platforms and retried from the outbox; headwatch stays useful.
      required: false,
      check: () => {
        const st = a.status();
        return st.connected ? { ok: true } : { ok: false, detail: st.lastError ?? 'not connected' };
      },
    });
  }
  const poller = o.poller;
  if (poller) {
    checks.push({
      name: 'headscale',
      // Headscale being down is exactly what headwatch must report, so it never makes headwatch unready.
      required: false,
      check: () => {
        const s = poller.status();
        return s.reachable || s.since === 0 ? { ok: true, detail: s.server ? `Headscale ${s.server.version}` : undefined } : { ok: false, detail: s.error ?? s.errorCode ?? 'unreachable' };
      },
    });
  }
  return checks;
}
