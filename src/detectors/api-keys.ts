import type { Alert, DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { EvidenceBook } from './evidence-book.js';

export interface ApiKeyOptions {
  /** Clears after this long without another rejection from the address (default 15 min). */
  quietMs?: number;
}

const REASONS = {
  invalid: 'an unknown, expired or revoked API key',
  'validation-failed': 'an API key Headscale could not validate (malformed or unknown prefix)',
  'missing-bearer': 'a request without an "Authorization: Bearer <key>" header',
} as const;

/**
 * Headscale refusing API keys (`api-key-rejected`), one alert per client address: a script, UI or a second
 * headwatch still using a key that was expired or deleted, or something probing the API. Fires on the first
 * rejection (each is a failed authenticated call) and clears after a quiet period.
 */
export class ApiKeyDetector implements Detector {
  readonly name = 'api-keys';
  private readonly book = new EvidenceBook(new Set(['api-key-rejected']));
  private readonly quietMs: number;

  constructor(opts: ApiKeyOptions = {}) {
    this.quietMs = opts.quietMs ?? 900_000;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'api-key-rejected') return [];
    return this.book.hit(
      {
        kind: 'api-key-rejected',
        subject: f.clientAddress,
        severity: 'warning',
        count: 1,
        windowMs: this.quietMs,
        quietMs: this.quietMs,
        immediate: true,
        labels: { clientAddress: f.clientAddress, reason: f.reason, origin: f.origin },
        summary: (_n, total) =>
          `Headscale (${f.origin}) rejected ${REASONS[f.reason]} from ${f.clientAddress}${total > 1 ? ` (${total} times)` : ''}. Find what runs at ${f.clientAddress} and give it a current key (headscale apikeys list / create); if it is headwatch itself, renew HEADSCALE_API_KEY.`,
      },
      f.at,
      f.line,
    );
  }

  tick(now: number): DetectorEvent[] {
    return this.book.tick(now, (subject, total, quietMs) => `No API key rejected from ${subject} in ${Math.round(quietMs / 60_000)} min (${total} in total)`);
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
