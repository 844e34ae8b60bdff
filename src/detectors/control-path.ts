import type { Alert, DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { EvidenceBook } from './evidence-book.js';

export interface ControlPathOptions {
  /** Control errors of one client within the window that fire (default 5 in 10 min). */
  count?: number;
  windowMs?: number;
  /** Clears after this long without another error (default 10 min). */
  quietMs?: number;
}

/**
 * A Tailscale client that keeps failing to talk to control (`control-path-errors`): `Received error:` lines,
 * `lite map update error` (endpoint and hostinfo updates), and the 2-minute map long-poll watchdog. Errors
 * that are a diagnosis of their own (auth, TLS, a proxy's answer) have their own alerts and are not counted
 * here. One alert per client container.
 */
export class ControlPathDetector implements Detector {
  readonly name = 'control-path';
  private readonly book = new EvidenceBook(new Set(['control-path-errors']));
  private readonly threshold;

  constructor(opts: ControlPathOptions = {}) {
    this.threshold = { count: opts.count ?? 5, windowMs: opts.windowMs ?? 600_000, quietMs: opts.quietMs ?? 600_000 };
  }

  observe(f: Finding): DetectorEvent[] {
    let what: string;
    let peer: string | undefined;
    if (f.kind === 'control-error' && f.class === 'other') {
      what = f.via === 'lite-map-update' ? `lite map update error: ${f.error}` : f.error;
      peer = f.peer;
    } else if (f.kind === 'map-poll-timeout') {
      what = 'map response long-poll timed out (no map or keep-alive for 2 minutes)';
    } else {
      return [];
    }
    const minutes = Math.round(this.threshold.windowMs / 60_000);
    return this.book.hit(
      {
        kind: 'control-path-errors',
        subject: f.origin,
        severity: 'warning',
        ...this.threshold,
        labels: { container: f.origin, ...(peer ? { controlHost: peer } : {}) },
        summary: (n, total) =>
          `Tailscale in ${f.origin} keeps failing to reach control${peer ? ` at ${peer}` : ''}: ${n} errors in ${minutes} min (${total} in total), last: ${what.slice(0, 200)}. Check that Headscale is up and reachable from the container (network, DNS, proxy timeouts above 60 s).`,
      },
      f.at,
      f.line,
    );
  }

  tick(now: number): DetectorEvent[] {
    return this.book.tick(now, (subject, total, quietMs) => `Tailscale in ${subject} reached control without errors for ${Math.round(quietMs / 60_000)} min (${total} errors in total)`);
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
