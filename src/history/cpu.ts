import type { CpuPoint } from '../charts/series.js';
import type { Finding } from '../parsers/finding.js';
import type { CpuMinute, CpuMinutes } from '../store/cpu-minutes.js';

export interface CpuHistoryOptions {
  /** Durable per-minute figures; without it the history is memory only (tests, benches). */
  minutes?: CpuMinutes;
  /** Raw samples kept in memory per container (default 20 min: a 15-minute chart plus slack). */
  keepMs?: number;
}

interface OpenMinute {
  minute: number;
  peak: number;
  sum: number;
  samples: number;
  cpus: number;
}

interface ContainerHistory {
  points: CpuPoint[];
  open?: OpenMinute;
}

const MINUTE = 60_000;

/**
 * Recent CPU samples per container, for charts on CPU alerts (last 15 min, raw samples from memory) and the
 * daily report (per-minute peaks from the store). Fed with the same `cpu-sample` findings the CPU detector
 * reads; `flush()` writes finished minutes in one transaction.
 */
export class CpuHistory {
  private readonly containers = new Map<string, ContainerHistory>();
  private pending: CpuMinute[] = [];
  private readonly keepMs: number;

  constructor(private readonly opts: CpuHistoryOptions = {}) {
    this.keepMs = opts.keepMs ?? 20 * MINUTE;
  }

  observe(f: Finding): void {
    if (f.kind !== 'cpu-sample' || !Number.isFinite(f.percent)) return;
    const c = this.container(f.origin);
    const last = c.points[c.points.length - 1];
    if (last && f.at < last.at) return;
    c.points.push({ at: f.at, percent: f.percent });
    const cut = f.at - this.keepMs;
    let drop = 0;
    while (drop < c.points.length && c.points[drop]!.at < cut) drop++;
    if (drop > 0) c.points.splice(0, drop);

    const minute = Math.floor(f.at / MINUTE) * MINUTE;
    if (c.open && c.open.minute !== minute) {
      this.close(f.origin, c.open);
      c.open = undefined;
    }
    c.open ??= { minute, peak: f.percent, sum: 0, samples: 0, cpus: f.cpus };
    c.open.peak = Math.max(c.open.peak, f.percent);
    c.open.sum += f.percent;
    c.open.samples++;
    c.open.cpus = f.cpus;
  }

  /**
   * Samples of `container` in [from, to]: raw samples from memory, preceded by stored minute peaks for the
   * part of the span memory does not cover (right after a restart).
   */
  window(container: string, from: number, to: number): CpuPoint[] {
    const raw = (this.containers.get(container)?.points ?? []).filter((p) => p.at >= from && p.at <= to);
    const coveredFrom = raw[0]?.at ?? to + 1;
    const stored =
      this.opts.minutes && coveredFrom - from > MINUTE
        ? this.opts.minutes.range(container, from, Math.floor(coveredFrom / MINUTE) * MINUTE).map((m) => ({ at: m.minute + MINUTE / 2, percent: m.peak }))
        : [];
    return [...stored, ...raw];
  }

  /** Writes every finished minute (and, with `all`, the minutes still open: at shutdown). */
  flush(now: number, all = false): void {
    for (const [name, c] of this.containers) {
      if (c.open && (all || now >= c.open.minute + MINUTE)) {
        this.close(name, c.open);
        c.open = undefined;
      }
      if (c.points.length > 0 && c.points[c.points.length - 1]!.at < now - this.keepMs) this.containers.delete(name);
    }
    if (this.pending.length === 0 || !this.opts.minutes) {
      this.pending = [];
      return;
    }
    const rows = this.pending;
    this.pending = [];
    this.opts.minutes.save(rows);
  }

  private close(container: string, m: OpenMinute): void {
    this.pending.push({ container, minute: m.minute, peak: m.peak, mean: m.sum / m.samples, samples: m.samples, cpus: m.cpus });
  }

  private container(name: string): ContainerHistory {
    let c = this.containers.get(name);
    if (!c) this.containers.set(name, (c = { points: [] }));
    return c;
  }
}
