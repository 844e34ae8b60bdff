import { appendEvidence, fingerprint, type Alert, type AlertDraft, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface ReachabilityOptions {
  /** Consecutive failed polls before the alert fires (default 2: one slow poll is not an outage). */
  failuresToFire?: number;
  /** Consecutive successful polls before it clears (default 1). */
  successesToClear?: number;
}

interface State {
  failures: number;
  successes: number;
  failingSince: number | null;
  errorCode?: string;
  error?: string;
  firing: boolean;
  evidence: string[];
}

const SUBJECT = 'headscale-api';

/**
 * One alert for "the Headscale API cannot be used": down, timing out, or refusing the API key. Fed by the
 * poller's `api-status` findings. A rejected key fires on the first poll (it never heals by itself); other
 * failures after `failuresToFire` in a row. While it fires the poller says nothing about nodes, so this is
 * the only alert an outage produces.
 */
export class ReachabilityDetector implements Detector {
  readonly name = 'reachability';
  private s: State = { failures: 0, successes: 0, failingSince: null, firing: false, evidence: [] };
  private readonly failuresToFire: number;
  private readonly successesToClear: number;

  constructor(opts: ReachabilityOptions = {}) {
    this.failuresToFire = Math.max(1, opts.failuresToFire ?? 2);
    this.successesToClear = Math.max(1, opts.successesToClear ?? 1);
  }

  /** True while the API is considered down (for inhibiting other noise). */
  isFiring(): boolean {
    return this.s.firing;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'api-status') return [];
    const s = this.s;
    if (f.reachable) {
      s.successes++;
      s.failures = 0;
      if (s.firing && s.successes >= this.successesToClear) {
        const downFor = s.failingSince !== null ? formatDuration(f.at - s.failingSince) : undefined;
        this.s = { failures: 0, successes: s.successes, failingSince: null, firing: false, evidence: [] };
        return [
          {
            action: 'resolve',
            fingerprint: fingerprint('headscale-unreachable', SUBJECT),
            summary: `Headscale API is reachable again${downFor ? ` after ${downFor}` : ''}.`,
          },
        ];
      }
      if (!s.firing) {
        s.failingSince = null;
        s.evidence = [];
      }
      return [];
    }
    s.successes = 0;
    s.failures++;
    s.failingSince ??= f.at;
    const changed = s.errorCode !== f.errorCode;
    s.errorCode = f.errorCode;
    s.error = f.error;
    if (f.error && (changed || s.evidence.length === 0)) {
      s.evidence = appendEvidence(s.evidence, `${new Date(f.at).toISOString()} ${f.error}`, 5);
    }
    if (!s.firing) {
      if (s.failures < this.failuresToFire && f.errorCode !== 'unauthorized') return [];
      s.firing = true;
      return [{ action: 'fire', alert: this.draft() }];
    }
    return changed ? [{ action: 'update', alert: this.draft() }] : [];
  }

  tick(_now: number): DetectorEvent[] {
    return [];
  }

  snapshot(): unknown {
    return { ...this.s };
  }

  restore(state: unknown, firing: Alert[]): void {
    const saved = state as Partial<State> | undefined;
    if (saved && typeof saved === 'object') {
      this.s = {
        failures: saved.failures ?? 0,
        successes: saved.successes ?? 0,
        failingSince: saved.failingSince ?? null,
        firing: saved.firing ?? false,
        evidence: saved.evidence ?? [],
        ...(saved.errorCode !== undefined ? { errorCode: saved.errorCode } : {}),
        ...(saved.error !== undefined ? { error: saved.error } : {}),
      };
    }
    // The stored alert is the truth about whether it is firing; it must be able to clear after a restart.
    this.s.firing = firing.some((a) => a.kind === 'headscale-unreachable');
  }

  private draft(): AlertDraft {
    const s = this.s;
    const unauthorized = s.errorCode === 'unauthorized';
    const summary = unauthorized
      ? `Headscale refuses headwatch's API key, so node states, expiry and commands are unavailable. ${s.error ?? ''}`.trim()
      : `Headscale API is not usable (${s.errorCode ?? 'error'}): node states, expiry and commands are unavailable until it is back. ${s.error ?? ''}`.trim();
    return {
      fingerprint: fingerprint('headscale-unreachable', SUBJECT),
      kind: 'headscale-unreachable',
      severity: 'critical',
      subject: SUBJECT,
      summary,
      evidence: s.evidence,
      labels: { errorCode: s.errorCode ?? 'unknown', ...(s.failingSince !== null ? { since: new Date(s.failingSince).toISOString() } : {}) },
    };
  }
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  const m = Math.round(s / 60);
  return m < 120 ? `${m} min` : `${Math.round(m / 60)} h`;
}
