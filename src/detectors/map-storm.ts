import { fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding, HeadscaleMetricsFinding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface MapStormOptions {
  /**
   * MAP_STORM_RATE: map responses per node per minute that make a storm. A quiet tailnet sends about one
   * keep-alive per node every 50–59 s plus a patch per peer change, i.e. 1–5 per node per minute.
   */
  perNodePerMinute: number;
  /** MAP_STORM_SUSTAIN_SECONDS in ms: how long the rate must stay high to fire, and low (below half) to clear. */
  sustainMs: number;
}

interface Sample {
  at: number;
  responses: number;
  ended: number;
  endedByReason: Record<string, number>;
}

interface Rate {
  at: number;
  /** Length of the scrape interval the rate covers. */
  intervalMs: number;
  perNodePerMinute: number;
  perMinute: number;
  endedPerMinute: number;
  endedByReason: Record<string, number>;
  nodes: number;
}

/**
 * Map-response storms seen in Headscale's own counters (`map-response-storm`): the rate of map responses
 * (`headscale_mapresponse_sent_total` + `headscale_mapresponse_generated_total`) per node far above normal
 * for a sustained time — the server side of juanfont/headscale#2486 (a client far newer than a pinned server,
 * with high CPU on both sides). Ended map sessions per minute go into the evidence. Rates come from two
 * consecutive scrapes; a counter that went down (Headscale restarted) starts over.
 */
export class MapStormDetector implements Detector {
  readonly name = 'map-storm';
  private last: Sample | undefined;
  private firing = false;
  private highSince: number | undefined;
  private lowSince: number | undefined;
  private lastUpdateAt = 0;

  constructor(private readonly opts: MapStormOptions) {}

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'headscale-metrics') return [];
    const responses = (f.mapResponsesSent ?? 0) + (f.mapResponsesGenerated ?? 0);
    const sample: Sample = { at: f.at, responses, ended: f.sessionsEnded ?? 0, endedByReason: f.endedByReason };
    const prev = this.last;
    this.last = sample;
    if (!prev || f.at <= prev.at || responses < prev.responses || sample.ended < prev.ended) return [];
    const minutes = (f.at - prev.at) / 60_000;
    const nodes = Math.max(1, f.nodes ?? 1);
    const perMinute = (responses - prev.responses) / minutes;
    const endedByReason: Record<string, number> = {};
    for (const [k, v] of Object.entries(sample.endedByReason)) endedByReason[k] = Math.max(0, (v - (prev.endedByReason[k] ?? 0)) / minutes);
    const rate: Rate = { at: f.at, intervalMs: f.at - prev.at, perMinute, perNodePerMinute: perMinute / nodes, endedPerMinute: (sample.ended - prev.ended) / minutes, endedByReason, nodes };
    return this.evaluate(rate, f);
  }

  private evaluate(r: Rate, f: HeadscaleMetricsFinding): DetectorEvent[] {
    const high = r.perNodePerMinute >= this.opts.perNodePerMinute;
    const low = r.perNodePerMinute < this.opts.perNodePerMinute / 2;
    const fp = fingerprint('map-response-storm', 'headscale');
    if (!this.firing) {
      // The rate covers the interval since the previous scrape, so "high since" starts there.
      if (!high) {
        this.highSince = undefined;
        return [];
      }
      this.highSince ??= r.at - r.intervalMs;
      if (r.at - this.highSince < this.opts.sustainMs) return [];
      this.firing = true;
      this.lowSince = undefined;
      this.lastUpdateAt = r.at;
      return [{ action: 'fire', alert: this.draft(r, f, fp) }];
    }
    if (low) {
      this.lowSince ??= r.at;
      if (r.at - this.lowSince >= this.opts.sustainMs) {
        this.firing = false;
        this.highSince = undefined;
        this.lowSince = undefined;
        return [{ action: 'resolve', fingerprint: fp, summary: `Headscale's map responses are back to ${fmt(r.perNodePerMinute)} per node per minute (${fmt(r.perMinute)}/min for ${r.nodes} nodes)` }];
      }
      return [];
    }
    this.lowSince = undefined;
    if (r.at - this.lastUpdateAt < 60_000) return [];
    this.lastUpdateAt = r.at;
    return [{ action: 'update', alert: this.draft(r, f, fp) }];
  }

  private draft(r: Rate, f: HeadscaleMetricsFinding, fp: string) {
    const reasons = Object.entries(r.endedByReason)
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ');
    const figure = `${fmt(r.perMinute)} map responses/min for ${r.nodes} node${r.nodes === 1 ? '' : 's'} = ${fmt(r.perNodePerMinute)} per node per minute (storm threshold ${this.opts.perNodePerMinute}, normal 1–5)`;
    return {
      fingerprint: fp,
      kind: 'map-response-storm' as const,
      severity: r.perNodePerMinute >= this.opts.perNodePerMinute * 3 ? ('critical' as const) : ('warning' as const),
      subject: 'headscale',
      summary: `Headscale is in a map-response storm: ${figure}, for ${Math.round(this.opts.sustainMs / 1000)} s or more. Usual cause: a Tailscale client far newer than a pinned Headscale (juanfont/headscale#2486) — upgrade Headscale one minor at a time, then re-register the node if it continues.`,
      evidence: [
        figure,
        `map sessions ended ${fmt(r.endedPerMinute)}/min${reasons ? ` (${reasons})` : ''}`,
        `node count from ${f.nodesFrom ?? 'unknown (taken as 1)'}`,
      ],
      labels: { perNodePerMinute: fmt(r.perNodePerMinute), perMinute: fmt(r.perMinute), nodes: String(r.nodes) },
    };
  }

  tick(): DetectorEvent[] {
    return [];
  }

  snapshot(): unknown {
    return { last: this.last, firing: this.firing, highSince: this.highSince, lowSince: this.lowSince };
  }

  restore(state: unknown, firing: Alert[]): void {
    const s = state as { last?: Sample; highSince?: number; lowSince?: number } | undefined;
    this.firing = firing.some((a) => a.kind === 'map-response-storm');
    if (s?.last) this.last = s.last;
    if (this.firing) this.lowSince = s?.lowSince;
    else this.highSince = s?.highSince;
  }
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : (Math.round(n * 10) / 10).toString();
}
