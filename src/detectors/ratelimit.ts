import { appendEvidence, fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import { restoreByName, type Detector } from './detector.js';
import { dropUpTo } from './window.js';

export interface RateLimitOptions {
  /** RATELIMIT_COUNT: lines within the window that make a flood. */
  count: number;
  /** RATELIMIT_WINDOW_SECONDS in ms. */
  windowMs: number;
  /** Dropped messages within the window that make a flood on their own (needs ≥ 2 lines). */
  droppedThreshold?: number;
  /** Clears after this long without a RATELIMIT line (default: half the window). */
  quietMs?: number;
}

interface Hit {
  at: number;
  dropped: number;
  format: string;
}

interface ContainerFlood {
  name: string;
  hits: Hit[];
  firing: boolean;
  evidence: string[];
  lastUpdateAt: number;
}

const UPDATE_EVERY_MS = 10_000;
const MAX_HITS = 10_000;

/**
 * RATELIMIT floods from tailscaled. One RATELIMIT line at container start is normal (initial netmap), so
 * the rule needs repetition: RATELIMIT_COUNT lines within the window, or at least two lines whose
 * `(N dropped)` counts add up to a large number. The dropped count is the intensity shown to operators.
 */
export class RateLimitDetector implements Detector {
  readonly name = 'ratelimit';
  private readonly containers = new Map<string, ContainerFlood>();
  private readonly droppedThreshold: number;
  private readonly quietMs: number;

  constructor(private readonly opts: RateLimitOptions) {
    this.droppedThreshold = opts.droppedThreshold ?? 100;
    this.quietMs = opts.quietMs ?? Math.max(1000, Math.floor(opts.windowMs / 2));
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'ratelimit') return [];
    let c = this.containers.get(f.origin);
    if (!c) {
      c = { name: f.origin, hits: [], firing: false, evidence: [], lastUpdateAt: 0 };
      this.containers.set(f.origin, c);
    }
    c.hits.push({ at: f.at, dropped: f.dropped, format: f.format });
    if (c.hits.length > MAX_HITS) c.hits.splice(0, c.hits.length - MAX_HITS);
    if (f.line) c.evidence = appendEvidence(c.evidence, f.line, 6);
    this.prune(c, f.at);
    const lines = c.hits.length;
    const dropped = c.hits.reduce((s, h) => s + h.dropped, 0);
    const flooding = lines >= this.opts.count || (lines >= 2 && dropped >= this.droppedThreshold);
    if (!c.firing) {
      if (!flooding) return [];
      c.firing = true;
      c.lastUpdateAt = f.at;
      return [{ action: 'fire', alert: this.draft(c) }];
    }
    if (f.at - c.lastUpdateAt < UPDATE_EVERY_MS) return [];
    c.lastUpdateAt = f.at;
    return [{ action: 'update', alert: this.draft(c) }];
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const c of this.containers.values()) {
      this.prune(c, now);
      const last = c.hits[c.hits.length - 1]?.at;
      if (c.firing && (last === undefined || now - last >= this.quietMs)) {
        c.firing = false;
        out.push({
          action: 'resolve',
          fingerprint: fingerprint('ratelimit-flood', c.name),
          summary: `RATELIMIT flood on ${c.name} ended: no RATELIMIT line for ${Math.round(this.quietMs / 1000)} s`,
        });
      }
      if (!c.firing && c.hits.length === 0) this.containers.delete(c.name);
    }
    return out;
  }

  snapshot(): unknown {
    return { containers: [...this.containers.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    restoreByName(this.containers, (state as { containers?: ContainerFlood[] } | undefined)?.containers, firing, 'ratelimit-flood', (name) => ({ name, hits: [], firing: false, evidence: [], lastUpdateAt: 0 }));
  }

  private prune(c: ContainerFlood, now: number): void {
    dropUpTo(c.hits, now - this.opts.windowMs, (h) => h.at);
  }

  private draft(c: ContainerFlood) {
    const lines = c.hits.length;
    const dropped = c.hits.reduce((s, h) => s + h.dropped, 0);
    const formats = new Map<string, number>();
    for (const h of c.hits) formats.set(h.format, (formats.get(h.format) ?? 0) + 1);
    const top = [...formats.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    const storm = top.startsWith('control: [v\u0000JSON]');
    const minutes = Math.max(1, Math.round(this.opts.windowMs / 60_000));
    return {
      fingerprint: fingerprint('ratelimit-flood', c.name),
      kind: 'ratelimit-flood' as const,
      severity: storm && dropped >= this.droppedThreshold ? ('critical' as const) : ('warning' as const),
      subject: c.name,
      summary:
        `RATELIMIT ×${lines} (${dropped.toLocaleString('en-US')} messages dropped) in ${minutes} min on ${c.name}, mostly format("${printable(top)}")` +
        (storm ? ' — a map-response storm: the control server floods this client (often a client newer than a pinned Headscale).' : ''),
      evidence: c.evidence,
      labels: { container: c.name, dropped: String(dropped), lines: String(lines), count: String(lines), format: printable(top) },
    };
  }
}

function printable(s: string): string {
  return s.replace(/[\u0000-\u001f]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
