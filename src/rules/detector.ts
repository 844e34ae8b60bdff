import type { Alert, DetectorEvent } from '../alerts/model.js';
import { EvidenceBook } from '../detectors/evidence-book.js';
import type { Detector } from '../detectors/detector.js';
import type { Finding } from '../parsers/finding.js';
import type { LogRule } from './load.js';

/**
 * User rules as alerts (`log-rule`), through the same machinery as the built-in signatures: one alert per
 * rule and container (fingerprint `log-rule:<rule>@<container>`), firing at `count` matches within `window`
 * and clearing after `clear_after` without a match; grouped, silenced and routed like every other alert.
 */
export class RuleDetector implements Detector {
  readonly name = 'log-rules';
  private readonly book = new EvidenceBook(new Set(['log-rule']));
  private readonly rules: Map<string, LogRule>;

  constructor(rules: readonly LogRule[]) {
    this.rules = new Map(rules.map((r) => [r.name, r]));
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'rule-match') return [];
    const r = this.rules.get(f.rule);
    if (!r) return [];
    const minutes = Math.round(r.windowMs / 60_000);
    return this.book.hit(
      {
        kind: 'log-rule',
        subject: `${r.name}@${f.origin}`,
        severity: r.severity,
        count: r.count,
        windowMs: r.windowMs,
        quietMs: r.clearAfterMs,
        labels: { rule: r.name, container: f.origin },
        summary: (n, total) => (r.count > 1 || total > 1 ? `${f.summary} (${n} in ${minutes >= 1 ? `${minutes} min` : `${Math.round(r.windowMs / 1000)} s`}, ${total} in total)` : f.summary),
      },
      f.at,
      f.line,
    );
  }

  tick(now: number): DetectorEvent[] {
    return this.book.tick(now, (subject, total, quietMs) => `Rule ${subject.replace('@', ' in ')}: no match for ${Math.round(quietMs / 1000)} s (${total} in total)`);
  }

  snapshot(): unknown {
    return this.book.snapshot();
  }

  restore(state: unknown, firing: Alert[]): void {
    this.book.restore(state, firing);
  }
}
