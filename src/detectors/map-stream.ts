import type { Alert, DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { EvidenceBook } from './evidence-book.js';

export interface MapStreamOptions {
  /** Failures within the window that fire (default 10 in 5 min). */
  count?: number;
  windowMs?: number;
  /** Clears after this long without a failure (default 10 min). */
  quietMs?: number;
}

/**
 * Headscale failing to deliver map updates (`map-stream-errors`): writes to clients' map streams that fail
 * (`client disconnected`, broken pipes), changes it cannot apply, stale connections. A few are normal when
 * clients go away; many in a short time mean clients keep dropping their stream and reconnecting — the
 * server side of flapping (each failure naming a node also lands in that node's flapping evidence). One alert
 * per Headscale container.
 */
export class MapStreamDetector implements Detector {
  readonly name = 'map-stream';
  private readonly book = new EvidenceBook(new Set(['map-stream-errors']));
  private readonly threshold;
  /** Distinct nodes per Headscale container in the current run of failures (for the summary). */
  private readonly nodes = new Map<string, Set<string>>();

  constructor(opts: MapStreamOptions = {}) {
    this.threshold = { count: opts.count ?? 10, windowMs: opts.windowMs ?? 300_000, quietMs: opts.quietMs ?? 600_000 };
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'map-stream-error') return [];
    let seen = this.nodes.get(f.origin);
    if (!seen) {
      seen = new Set();
      this.nodes.set(f.origin, seen);
    }
    if (f.nodeId !== undefined && seen.size < 10_000) seen.add(f.nodeId);
    const minutes = Math.round(this.threshold.windowMs / 60_000);
    const last = `${f.message}${f.error ? `: ${f.error}` : ''}`.slice(0, 200);
    return this.book.hit(
      {
        kind: 'map-stream-errors',
        subject: f.origin,
        severity: 'warning',
        ...this.threshold,
        labels: { origin: f.origin, nodes: String(seen.size) },
        summary: (n, total) =>
          `Headscale (${f.origin}) failed to deliver map updates ${n} times in ${minutes} min to ${seen.size} node${seen.size === 1 ? '' : 's'} (${total} in total), last: ${last}. Clients are dropping their map stream and reconnecting: look for node-flapping, a proxy timing out long polls, or an overloaded Headscale.`,
      },
      f.at,
      f.line,
    );
  }

  tick(now: number): DetectorEvent[] {
    const out = this.book.tick(now, (subject, total, quietMs) => `Headscale (${subject}) delivered map updates without failure for ${Math.round(quietMs / 60_000)} min (${total} failures in total)`);
    const active = new Set(this.book.subjects('map-stream-errors'));
    for (const origin of this.nodes.keys()) if (!active.has(origin)) this.nodes.delete(origin);
    return out;
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
