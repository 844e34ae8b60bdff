import { fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface DockerReachabilityOptions {
  /** How long the engine must stay unreachable before it is an alert (a daemon restart takes seconds). */
  graceMs?: number;
}

/**
 * headwatch watching nothing must not look like everything being fine: a Docker engine that stays
 * unreachable is itself an alert, and clears as soon as the engine answers again.
 */
export class DockerReachabilityDetector implements Detector {
  readonly name = 'docker-reachability';
  private downSince: number | undefined;
  private error: string | undefined;
  private firing = false;
  private readonly graceMs: number;

  constructor(opts: DockerReachabilityOptions = {}) {
    this.graceMs = opts.graceMs ?? 60_000;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'docker-status') return [];
    if (!f.reachable) {
      this.downSince ??= f.at;
      this.error = f.error;
      return this.tick(f.at);
    }
    const downFor = this.downSince === undefined ? 0 : f.at - this.downSince;
    this.downSince = undefined;
    if (!this.firing) return [];
    this.firing = false;
    return [{ action: 'resolve', fingerprint: FP, summary: `Docker engine reachable again after ${Math.round(downFor / 1000)} s; watching resumed.` }];
  }

  tick(now: number): DetectorEvent[] {
    if (this.firing || this.downSince === undefined || now - this.downSince < this.graceMs) return [];
    this.firing = true;
    return [
      {
        action: 'fire',
        alert: {
          fingerprint: FP,
          kind: 'docker-unreachable',
          severity: 'critical',
          subject: 'docker',
          summary: `Docker engine unreachable for ${Math.round((now - this.downSince) / 1000)} s: container logs and CPU are not being watched. ${this.error ?? ''}`.trim(),
          evidence: this.error ? [this.error] : [],
          labels: {},
        },
      },
    ];
  }

  snapshot(): unknown {
    return { downSince: this.downSince ?? null, error: this.error ?? null };
  }

  restore(state: unknown, firing: Alert[]): void {
    const s = state as { downSince?: number | null; error?: string | null } | undefined;
    this.downSince = s?.downSince ?? undefined;
    this.error = s?.error ?? undefined;
    this.firing = firing.some((a) => a.fingerprint === FP);
  }
}

const FP = fingerprint('docker-unreachable', 'docker');
