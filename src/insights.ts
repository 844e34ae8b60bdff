import type { Logger } from 'pino';
import type { AlertTransition } from './alerts/model.js';
import { AlertCharts } from './charts/alert-charts.js';
import type { Config } from './config/schema.js';
import { ActivityRecorder } from './history/activity.js';
import { CpuHistory } from './history/cpu.js';
import type { Message } from './messages/model.js';
import type { Finding } from './parsers/finding.js';
import { ReportService } from './reports/service.js';
import type { HeadscaleApi, ServerInfo } from './sources/headscale/types.js';
import { ActivityCounts } from './store/activity.js';
import { CpuMinutes } from './store/cpu-minutes.js';
import type { Store } from './store/db.js';
import { ReportSlots } from './store/report-slots.js';

export interface InsightsOptions {
  config: Config;
  store: Store;
  logger: Logger;
  clock: () => number;
}

const FLUSH_EVERY_MS = 60_000;
const KEEP_MS = 8 * 86_400_000;

/**
 * What headwatch remembers to show people rather than to alert on: recent CPU samples (charts on CPU alerts),
 * per-minute CPU and hourly activity counts (the daily report), and the report itself on its schedule.
 * The composition root feeds it every finding and transition and hands it the API and the publisher once
 * they exist; it owns its one timer (writing buffered figures each minute).
 */
export class Insights {
  readonly history: CpuHistory;
  readonly recorder: ActivityRecorder;
  readonly charts: AlertCharts;
  private readonly activity: ActivityCounts;
  private readonly cpu: CpuMinutes;
  private report: ReportService | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: InsightsOptions) {
    this.cpu = new CpuMinutes(o.store);
    this.activity = new ActivityCounts(o.store);
    this.history = new CpuHistory({ minutes: this.cpu });
    this.recorder = new ActivityRecorder(this.activity);
    const log = o.logger.child({ component: 'charts' });
    this.charts = new AlertCharts({
      samples: (c, from, to) => this.history.window(c, from, to),
      thresholdPercent: o.config.CPU_THRESHOLD_PERCENT,
      timeZone: o.config.HEADWATCH_REPORT_TZ,
      onError: (fingerprint, err) => log.warn({ fingerprint, err: (err as Error)?.message ?? String(err) }, 'CPU chart could not be rendered; the alert goes out without it'),
      clock: o.clock,
    });
  }

  observe(f: Finding): void {
    this.history.observe(f);
    this.recorder.observe(f);
  }

  onTransition(t: AlertTransition): void {
    this.recorder.alertTransition(t);
    void this.charts.prepare(t);
  }

  /** Builds the report service once the API and the dispatcher exist. */
  reports(deps: { headscale: HeadscaleApi; server: () => ServerInfo | undefined; publish: (m: Message, key: string) => void; incidents: boolean }): ReportService {
    this.report = new ReportService({
      config: this.o.config,
      headscale: deps.headscale,
      server: deps.server,
      history: this.history,
      recorder: this.recorder,
      activity: this.activity,
      cpu: this.cpu,
      slots: new ReportSlots(this.o.store),
      publish: deps.publish,
      incidents: deps.incidents,
      logger: this.o.logger.child({ component: 'report' }),
      clock: this.o.clock,
    });
    return this.report;
  }

  async start(): Promise<void> {
    this.timer = setInterval(() => this.flush(false), FLUSH_EVERY_MS);
    this.timer.unref();
    // A missed report is built in the background (it asks Headscale): starting never waits on it.
    void this.report?.start().catch((err: Error) => this.o.logger.error({ err: err.message }, 'daily report schedule could not start'));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.report?.stop();
    this.flush(true);
  }

  private flush(all: boolean): void {
    try {
      const now = this.o.clock();
      this.recorder.flush();
      this.history.flush(now, all);
      if (all) return;
      this.cpu.prune(now - KEEP_MS);
      this.activity.prune(now - KEEP_MS);
    } catch (err) {
      this.o.logger.error({ err: (err as Error).message }, 'could not write CPU and activity figures; will retry');
    }
  }
}
