import type { Alert, DetectorEvent } from '../../src/alerts/model.js';
import { CpuDetector } from '../../src/detectors/cpu.js';
import type { Detector } from '../../src/detectors/detector.js';
import { FlappingDetector } from '../../src/detectors/flapping.js';
import { MisconfigDetector } from '../../src/detectors/misconfig.js';
import { RateLimitDetector } from '../../src/detectors/ratelimit.js';
import { SkewDetector } from '../../src/detectors/skew.js';
import { AuthRejectedDetector } from '../../src/detectors/auth.js';
import { ControlPathDetector } from '../../src/detectors/control-path.js';
import { MapStreamDetector } from '../../src/detectors/map-stream.js';
import { TlsDetector } from '../../src/detectors/tls.js';
import { EvidenceLog } from '../../src/incidents/evidence.js';
import type { Finding } from '../../src/parsers/finding.js';
import { headscaleParser } from '../../src/parsers/headscale.js';
import { tailscaleParser } from '../../src/parsers/tailscale.js';

/**
 * Real parsers and detectors, so diagnosis tests start from log lines and get the alerts headwatch would
 * raise, not hand-written ones. Alerts are kept as the lifecycle would store them (firing, last draft wins).
 */
export class MiniPipeline {
  readonly alerts = new Map<string, Alert>();
  readonly evidence = new EvidenceLog(10 * 60_000);
  readonly detectors: Detector[] = [
    new FlappingDetector({ count: 6, windowMs: 300_000 }),
    new RateLimitDetector({ count: 5, windowMs: 300_000 }),
    new MisconfigDetector(),
    new SkewDetector({ aheadMarginMinors: 4 }),
    new CpuDetector({ thresholdPercent: 80, sustainMs: 30_000, clearMarginPercent: 10, maxGapMs: 60_000 }),
    new AuthRejectedDetector(),
    new ControlPathDetector(),
    new MapStreamDetector(),
    new TlsDetector(),
  ];
  at = 1_800_000_000_000;

  feed(f: Finding): void {
    this.evidence.observe(f);
    for (const d of this.detectors) this.apply(d.observe(f));
  }

  /** Lines from the Headscale container (role headscale) or a Tailscale container. */
  lines(origin: string, role: 'headscale' | 'tailscale', lines: string[], stepMs = 500): void {
    const parser = role === 'headscale' ? headscaleParser : tailscaleParser;
    for (const l of lines) {
      this.at += stepMs;
      const f = parser.parse(l, this.at, origin);
      if (f) this.feed(f);
    }
  }

  finding(f: WithoutAt<Finding>): void {
    this.at += 100;
    this.feed({ ...f, at: f.at ?? this.at } as Finding);
  }

  cpu(origin: string, percent: number, samples: number): void {
    for (let i = 0; i < samples; i++) {
      this.at += 10_000;
      this.feed({ kind: 'cpu-sample', at: this.at, origin, percent, cpus: 2 });
    }
  }

  firing(): Alert[] {
    return [...this.alerts.values()].filter((a) => a.status === 'firing');
  }

  private apply(events: DetectorEvent[]): void {
    for (const e of events) {
      if (e.action === 'resolve') {
        const a = this.alerts.get(e.fingerprint);
        if (a) this.alerts.set(e.fingerprint, { ...a, status: 'resolved', endsAt: new Date(this.at).toISOString() });
        continue;
      }
      const iso = new Date(this.at).toISOString();
      const prev = this.alerts.get(e.alert.fingerprint);
      this.alerts.set(e.alert.fingerprint, {
        ...e.alert,
        labels: e.alert.labels ?? {},
        status: 'firing',
        startsAt: prev?.status === 'firing' ? prev.startsAt : iso,
        updatedAt: iso,
        endsAt: null,
        occurrences: 1,
      });
    }
  }
}

/** A finding whose time the pipeline fills in (distributes over the union, unlike Omit). */
type WithoutAt<F> = F extends unknown ? Omit<F, 'at'> & { at?: number } : never;

const KEYS = `"machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false`;

/** Headscale 0.29 JSON connect/disconnect lines: 2 transitions per cycle. */
export function flapping(nodeId: number, node: string, cycles: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < cycles; i++) {
    const chan = `0xc0000b4${(0x100 + i).toString(16)}`;
    out.push(
      `{"level":"info","component":"poll","node.id":${nodeId},"node.name":"${node}",${KEYS},"user.name":"alice","omit_peers":false,"stream":true,"chan":"${chan}","time":1795681174,"message":"node has connected"}`,
      `{"level":"info","component":"poll","node.id":${nodeId},"node.name":"${node}",${KEYS},"user.name":"alice","omit_peers":false,"stream":true,"chan":"${chan}","time":1795681175,"message":"node has disconnected"}`,
    );
  }
  return out;
}

/** tailscaled's map-response storm: `control: [v\x00JSON]` RATELIMIT lines with rising dropped counts. */
export function stormLines(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `2025/03/17 15:05:${String(10 + i).padStart(2, '0')} [RATELIMIT] format("control: [v\\x00JSON]%d%s") (${37 * (i + 1)} dropped)`);
}
