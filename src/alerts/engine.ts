import type { Logger } from 'pino';
import type { Detector } from '../detectors/detector.js';
import type { Metrics } from '../http/metrics.js';
import type { Finding } from '../parsers/finding.js';
import type { AlertRepository } from '../store/alerts.js';
import type { AlertLifecycle } from './lifecycle.js';
import type { AlertTransition, DetectorEvent } from './model.js';

export interface AlertEngineOptions {
  detectors: Detector[];
  lifecycle: AlertLifecycle;
  repo: AlertRepository;
  onTransition: (t: AlertTransition) => void;
  logger: Logger;
  metrics: Metrics;
  clock?: () => number;
  /** Called after the detectors' state was saved: the log cursor is written with it, so both say the same moment. */
  onPersisted?: () => void;
}

/**
 * Findings in, alert transitions out: hands every finding to every detector, applies their verdicts to the
 * stored alerts, and passes real changes on. A detector that throws is logged and skipped for that finding;
 * it never stops the pipeline.
 */
export class AlertEngine {
  private readonly clock: () => number;
  private timer?: NodeJS.Timeout;
  private lastPersist = 0;
  /** Alert gauges are recounted on the next tick, not per transition: a storm is thousands of transitions. */
  private gaugesStale = true;

  constructor(private readonly opts: AlertEngineOptions) {
    this.clock = opts.clock ?? Date.now;
  }

  /** Loads saved detector state and the stored firing alerts, so nothing is re-announced after a restart. */
  restore(): void {
    const firing = this.opts.repo.firing();
    for (const d of this.opts.detectors) {
      try {
        d.restore(this.opts.repo.loadDetectorState(d.name), firing);
      } catch (err) {
        this.opts.logger.warn({ detector: d.name, err: (err as Error).message }, 'could not restore detector state; starting it fresh');
      }
    }
    this.refreshGauges();
  }

  ingest(finding: Finding): void {
    for (const d of this.opts.detectors) {
      let events: DetectorEvent[];
      try {
        events = d.observe(finding);
      } catch (err) {
        this.opts.logger.error({ detector: d.name, finding: finding.kind, err: (err as Error).message }, 'detector failed on a finding; skipped');
        continue;
      }
      this.apply(events, finding.at);
    }
  }

  tick(now = this.clock()): void {
    for (const d of this.opts.detectors) {
      try {
        this.apply(d.tick(now), now);
      } catch (err) {
        this.opts.logger.error({ detector: d.name, err: (err as Error).message }, 'detector tick failed');
      }
    }
    if (now - this.lastPersist >= 30_000) this.persist(now);
    if (this.gaugesStale) this.refreshGauges();
  }

  /** Saves every detector's state (periodically and on shutdown). */
  persist(now = this.clock()): void {
    this.lastPersist = now;
    for (const d of this.opts.detectors) {
      try {
        this.opts.repo.saveDetectorState(d.name, d.snapshot(), new Date(now));
      } catch (err) {
        this.opts.logger.warn({ detector: d.name, err: (err as Error).message }, 'could not save detector state');
      }
    }
    this.opts.onPersisted?.();
  }

  start(tickMs = 1000): void {
    this.timer = setInterval(() => this.tick(), tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.persist();
  }

  private apply(events: DetectorEvent[], at: number): void {
    for (const e of events) {
      const t = this.opts.lifecycle.apply(e, at);
      if (!t) continue;
      this.opts.metrics.alertTransitions.inc({ kind: t.alert.kind, change: t.change });
      this.gaugesStale = true;
      try {
        this.opts.onTransition(t);
      } catch (err) {
        this.opts.logger.error({ fingerprint: t.alert.fingerprint, err: (err as Error).message }, 'dispatching an alert failed');
      }
    }
  }

  private refreshGauges(): void {
    let counts: ReturnType<AlertRepository['countByKindStatus']>;
    try {
      counts = this.opts.repo.countByKindStatus();
    } catch (err) {
      // The gauges stay as they were and are refreshed at a later tick; the timer must not die with the read.
      this.opts.logger.warn({ err: (err as Error).message }, 'could not count alerts for the metrics; will retry');
      return;
    }
    this.gaugesStale = false;
    this.opts.metrics.alerts.reset();
    for (const r of counts) this.opts.metrics.alerts.set({ kind: r.kind, status: r.status }, r.n);
  }
}
