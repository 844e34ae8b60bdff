import { appendEvidence, fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import { restoreByName, type Detector } from './detector.js';
import type { CpuPoint } from '../charts/series.js';
import { cpuSparklineText } from '../charts/sparkline.js';

export interface CpuOptions {
  /** CPU_THRESHOLD_PERCENT: percent of the container's allowance. */
  thresholdPercent: number;
  /** CPU_SUSTAIN_SECONDS in ms: how long every sample must stay at or above the threshold. */
  sustainMs: number;
  /** Clears only below threshold minus this margin (CPU_CLEAR_MARGIN_PERCENT). */
  clearMarginPercent: number;
  /** How long samples must stay below the clear level (default: sustainMs). */
  clearMs?: number;
  /** A gap between samples longer than this breaks a run (missing data is not "still high"). */
  maxGapMs: number;
  /**
   * The container's samples of the last 15 minutes (CpuHistory): a firing alert carries them as a text
   * sparkline (`labels.sparkline`, shown by console and webhook; chat gets the PNG chart).
   */
  recent?(container: string, now: number): CpuPoint[];
}

interface ContainerCpu {
  name: string;
  aboveSince?: number;
  belowSince?: number;
  lastAt?: number;
  firing: boolean;
  samples: string[];
  peak: number;
  /** CPU limit of the last sample (CPUs); undefined when none is set. */
  limit?: number;
}

/** Sustained CPU per container with hysteresis: fire after a full run above the threshold, clear after a full run below threshold − margin. */
export class CpuDetector implements Detector {
  readonly name = 'cpu';
  private readonly containers = new Map<string, ContainerCpu>();
  private readonly clearMs: number;

  constructor(private readonly opts: CpuOptions) {
    this.clearMs = opts.clearMs ?? opts.sustainMs;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind === 'container-state') return this.containerState(f.origin, f.state, f.at);
    if (f.kind !== 'cpu-sample') return [];
    const c = this.container(f.origin);
    if (c.lastAt !== undefined && f.at - c.lastAt > this.opts.maxGapMs) {
      c.aboveSince = undefined;
      c.belowSince = undefined;
    }
    c.lastAt = f.at;
    c.limit = f.limit;
    c.samples = appendEvidence(c.samples, `${new Date(f.at).toISOString()} ${f.percent.toFixed(1)} % ${allowance(f.limit)}`, 8);
    const clearLevel = this.opts.thresholdPercent - this.opts.clearMarginPercent;
    if (f.percent >= this.opts.thresholdPercent) {
      c.aboveSince ??= f.at;
      c.peak = Math.max(c.peak, f.percent);
    } else {
      c.aboveSince = undefined;
    }
    if (f.percent < clearLevel) c.belowSince ??= f.at;
    else c.belowSince = undefined;

    if (!c.firing && c.aboveSince !== undefined && f.at - c.aboveSince >= this.opts.sustainMs) {
      c.firing = true;
      return [{ action: 'fire', alert: this.draft(c, f.percent, f.at - c.aboveSince, f.at) }];
    }
    if (c.firing && c.belowSince !== undefined && f.at - c.belowSince >= this.clearMs) {
      return [this.resolve(c, `CPU of ${c.name} back to ${f.percent.toFixed(1)} % ${allowance(f.limit)} (below ${clearLevel} % for ${Math.round((f.at - c.belowSince) / 1000)} s)`)];
    }
    return [];
  }

  tick(): DetectorEvent[] {
    return [];
  }

  snapshot(): unknown {
    return { containers: [...this.containers.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    restoreByName(this.containers, (state as { containers?: ContainerCpu[] } | undefined)?.containers, firing, 'cpu-sustained', empty);
  }

  private containerState(name: string, state: string, at: number): DetectorEvent[] {
    const c = this.containers.get(name);
    if (!c) return [];
    c.aboveSince = undefined;
    c.belowSince = undefined;
    c.lastAt = undefined;
    if ((state === 'die' || state === 'destroy') && c.firing) {
      return [this.resolve(c, `Container ${name} stopped (${state} at ${new Date(at).toISOString()}); CPU alert closed`)];
    }
    return [];
  }

  private resolve(c: ContainerCpu, summary: string): DetectorEvent {
    c.firing = false;
    c.peak = 0;
    return { action: 'resolve', fingerprint: fingerprint('cpu-sustained', c.name), summary };
  }

  private container(name: string): ContainerCpu {
    let c = this.containers.get(name);
    if (!c) {
      c = empty(name);
      this.containers.set(name, c);
    }
    return c;
  }

  private draft(c: ContainerCpu, now: number, forMs: number, at: number) {
    // The history may not hold the sample being judged yet (it is told after the detectors): add it.
    const recent = this.opts.recent?.(c.name, at).filter((p) => p.at < at);
    const spark = recent ? cpuSparklineText([...recent, { at, percent: now }], this.opts.thresholdPercent) : undefined;
    return {
      fingerprint: fingerprint('cpu-sustained', c.name),
      kind: 'cpu-sustained' as const,
      severity: now >= this.opts.thresholdPercent * 1.5 ? ('critical' as const) : ('warning' as const),
      subject: c.name,
      summary: `Container ${c.name} has used ${now.toFixed(1)} % ${allowance(c.limit)} (threshold ${this.opts.thresholdPercent} %) for ${Math.round(forMs / 1000)} s; peak ${c.peak.toFixed(1)} %`,
      evidence: c.samples,
      labels: { container: c.name, cpuLimit: c.limit ? String(c.limit) : 'none', ...(spark ? { sparkline: spark } : {}) },
    };
  }
}

function empty(name: string): ContainerCpu {
  return { name, firing: false, samples: [], peak: 0 };
}

/**
 * What a percentage is of, said every time: "100.2 %" alone on a 2-core host reads as "the whole machine".
 * With a limit the figure is of the limit; without one it is of one core, as `docker stats` shows it.
 */
export function allowance(limit: number | undefined): string {
  if (limit === undefined || limit <= 0) return 'of one core (no limit set)';
  const cpus = Number.isInteger(limit) ? String(limit) : String(Math.round(limit * 100) / 100);
  return `of its ${cpus}-CPU limit`;
}
