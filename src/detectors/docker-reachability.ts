import { fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface DockerReachabilityOptions {
  /** How long the engine must stay unreachable before it is an alert (a daemon restart takes seconds). */
  graceMs?: number;
}

/** Default grace: a dockerd restart takes seconds; the alert still comes well within a minute. */
export const DOCKER_UNREACHABLE_GRACE_MS = 45_000;

interface HostState {
  downSince?: number;
  error?: string;
  where?: string;
  firing: boolean;
}

/** The key of the one host of DOCKER_HOST (its findings carry no host). */
const ONLY = '';

/**
 * headwatch watching nothing must not look like everything being fine: a Docker engine that stays
 * unreachable is itself an alert, and clears as soon as the engine answers again. With several hosts each is
 * judged alone: one host down is one alert naming it, whatever the others do.
 */
export class DockerReachabilityDetector implements Detector {
  readonly name = 'docker-reachability';
  private readonly hosts = new Map<string, HostState>();
  private readonly graceMs: number;

  constructor(opts: DockerReachabilityOptions = {}) {
    this.graceMs = opts.graceMs ?? DOCKER_UNREACHABLE_GRACE_MS;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'docker-status') return [];
    const key = f.host ?? ONLY;
    const h = this.state(key);
    if (f.where) h.where = f.where;
    if (!f.reachable) {
      h.downSince ??= f.at;
      h.error = f.error;
      return this.tickOne(key, h, f.at);
    }
    const downFor = h.downSince === undefined ? 0 : f.at - h.downSince;
    h.downSince = undefined;
    if (!h.firing) return [];
    h.firing = false;
    return [{ action: 'resolve', fingerprint: fingerprintOf(key), summary: `${engineName(key, h)} reachable again after ${Math.round(downFor / 1000)} s; watching resumed.` }];
  }

  tick(now: number): DetectorEvent[] {
    return [...this.hosts].flatMap(([key, h]) => this.tickOne(key, h, now));
  }

  private tickOne(key: string, h: HostState, now: number): DetectorEvent[] {
    if (h.firing || h.downSince === undefined || now - h.downSince < this.graceMs) return [];
    h.firing = true;
    const what = key === ONLY ? 'container logs and CPU are not being watched' : `container logs and CPU on ${key} are not being watched (other hosts still are)`;
    return [
      {
        action: 'fire',
        alert: {
          fingerprint: fingerprintOf(key),
          kind: 'docker-unreachable',
          severity: 'critical',
          subject: key === ONLY ? 'docker' : `docker:${key}`,
          summary: `${engineName(key, h)} unreachable for ${Math.round((now - h.downSince) / 1000)} s: ${what}. ${h.error ?? ''}`.trim(),
          evidence: h.error ? [h.error] : [],
          labels: key === ONLY ? {} : { host: key },
        },
      },
    ];
  }

  private state(key: string): HostState {
    let h = this.hosts.get(key);
    if (!h) this.hosts.set(key, (h = { firing: false }));
    return h;
  }

  snapshot(): unknown {
    const out: Record<string, { downSince: number | null; error: string | null; where: string | null }> = {};
    for (const [key, h] of this.hosts) out[key] = { downSince: h.downSince ?? null, error: h.error ?? null, where: h.where ?? null };
    // One host: the shape stored before there were several, so a downgrade still reads it.
    if (this.hosts.size <= 1 && this.hosts.has(ONLY)) return { downSince: out[ONLY]!.downSince, error: out[ONLY]!.error };
    return { hosts: out };
  }

  restore(state: unknown, firing: Alert[]): void {
    type Saved = { downSince?: number | null; error?: string | null; where?: string | null };
    const s = state as (Saved & { hosts?: Record<string, Saved> }) | undefined;
    const saved: Record<string, Saved> = s?.hosts ?? (s && 'downSince' in s ? { [ONLY]: s } : {});
    const keys = new Set([...Object.keys(saved), ...firing.filter((a) => a.kind === 'docker-unreachable').map((a) => (a.labels.host as string | undefined) ?? ONLY)]);
    for (const key of keys) {
      const v = saved[key];
      this.hosts.set(key, {
        ...(v?.downSince != null ? { downSince: v.downSince } : {}),
        ...(v?.error != null ? { error: v.error } : {}),
        ...(v?.where != null ? { where: v.where } : {}),
        firing: firing.some((a) => a.fingerprint === fingerprintOf(key)),
      });
    }
  }
}

function fingerprintOf(key: string): string {
  return key === ONLY ? fingerprint('docker-unreachable', 'docker') : fingerprint('docker-unreachable', `docker:${key}`);
}

function engineName(key: string, h: HostState): string {
  if (key === ONLY) return 'Docker engine';
  return `Docker host ${key}${h.where && h.where !== key ? ` (${h.where.replace(/^\S+ \((.*)\)$/, '$1')})` : ''}`;
}
