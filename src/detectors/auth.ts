import type { Alert, DetectorEvent } from '../alerts/model.js';
import { classifyControlError, loginError } from '../parsers/control-errors.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { EvidenceBook } from './evidence-book.js';

export interface AuthOptions {
  /**
   * A rejection nobody repeats (the container stopped logging) still clears after this long (default 6 h):
   * auth failures leave the node off the tailnet, so they clear on the client reaching Running, not on silence.
   */
  quietMs?: number;
}

/** States a logged-in client leaves for NeedsLogin when control logged it out or its key expired. */
const WAS_LOGGED_IN = new Set(['Running', 'Starting', 'Stopped']);

/**
 * A Tailscale client refused by control (`auth-rejected`): a rejected, expired, used or deleted key
 * (`invalid key`, `authkey expired`, `invalid pre auth key`), a machine key the server no longer accepts
 * (`cannot decrypt response`, `control server is too old; no noise key`), or tailscaled dropping from a
 * logged-in state to NeedsLogin. This is the evidence for the stale-key cause: containerboot re-sends
 * TS_AUTHKEY on every start unless TS_AUTH_ONCE=true (tailscale.md §4.3). One alert per container; it clears
 * when the client is Running again (or the container is removed).
 */
export class AuthRejectedDetector implements Detector {
  readonly name = 'auth';
  private readonly book = new EvidenceBook(new Set(['auth-rejected']));
  private readonly quietMs: number;

  constructor(opts: AuthOptions = {}) {
    this.quietMs = opts.quietMs ?? 6 * 3_600_000;
  }

  observe(f: Finding): DetectorEvent[] {
    switch (f.kind) {
      case 'control-error':
        return f.class === 'auth' ? this.hit(f.origin, f.error, f.at, f.line) : [];
      case 'health':
        if (f.warnable !== 'login-state' || f.ok || !f.text) return [];
        return classifyControlError(f.text) === 'auth' ? this.hit(f.origin, loginError(f.text), f.at, f.line) : [];
      case 'boot':
        if (f.event === 'auth-failed' && classifyControlError(f.message) === 'auth') return this.hit(f.origin, f.message, f.at, f.line);
        if (f.event === 'startup-complete') return this.book.clear('auth-rejected', f.origin, `Tailscale in ${f.origin} finished starting up: it is logged in again`);
        return [];
      case 'ipn-state':
        if (f.to === 'Running') return this.book.clear('auth-rejected', f.origin, `Tailscale in ${f.origin} is Running again: control accepted it`);
        if (f.to === 'NeedsLogin' && WAS_LOGGED_IN.has(f.from)) {
          return this.hit(f.origin, `logged out by control (ipn state ${f.from} -> NeedsLogin): the node key expired or the node was expired or deleted on Headscale`, f.at, f.line);
        }
        return [];
      case 'container-state':
        return f.state === 'destroy' ? this.book.clear('auth-rejected', f.origin, `Container ${f.origin} was removed`) : [];
      default:
        return [];
    }
  }

  private hit(origin: string, reason: string, at: number, line?: string): DetectorEvent[] {
    return this.book.hit(
      {
        kind: 'auth-rejected',
        subject: origin,
        severity: 'critical',
        count: 1,
        windowMs: this.quietMs,
        quietMs: this.quietMs,
        immediate: true,
        labels: { container: origin, reason: reason.slice(0, 200) },
        summary: (_n, total) =>
          `Control refused Tailscale in ${origin}: ${reason}${total > 1 ? ` (${total} times)` : ''}. Its auth key is rejected, expired, used or deleted, or the node was expired on Headscale: create a new pre-auth key (/headscale create-key) and re-join it (/headscale rejoin ${origin}); then update TS_AUTHKEY or set TS_AUTH_ONCE=true, because containerboot re-sends the old key on every start.`,
      },
      at,
      line,
    );
  }

  tick(now: number): DetectorEvent[] {
    return this.book.tick(now, (subject, total) => `No further login refusal for Tailscale in ${subject} (${total} seen in total)`);
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
