import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { ActivityRecorder } from '../history/activity.js';
import type { CpuHistory } from '../history/cpu.js';
import type { Message } from '../messages/model.js';
import type { HeadscaleApi, ServerInfo } from '../sources/headscale/types.js';
import type { ActivityCounts } from '../store/activity.js';
import type { CpuMinutes } from '../store/cpu-minutes.js';
import type { ReportSlots } from '../store/report-slots.js';
import { buildDailyReport, type DailyReport, type DailyReportSources } from './daily.js';
import { ReportScheduler } from './schedule.js';

export interface ReportServiceOptions {
  config: Pick<Config, 'HEADWATCH_REPORT_CRON' | 'HEADWATCH_REPORT_TZ' | 'CPU_THRESHOLD_PERCENT' | 'HEADSCALE_URL'>;
  headscale: HeadscaleApi;
  /** Last detected server (the poller's view); falls back to asking the API. */
  server(): ServerInfo | undefined;
  history: CpuHistory;
  recorder: ActivityRecorder;
  activity: ActivityCounts;
  cpu: CpuMinutes;
  slots: ReportSlots;
  /** Enqueues the report for every alert channel; synchronous (it runs inside the slot-claim transaction). */
  publish(message: Message, key: string): void;
  incidents: boolean;
  logger: Logger;
  clock: () => number;
}

/**
 * The daily report as the app runs it: the scheduled send (HEADWATCH_REPORT_CRON in HEADWATCH_REPORT_TZ,
 * `off` disables it) and the on-demand `/headscale report`, both from one builder.
 */
export class ReportService {
  private readonly scheduler: ReportScheduler | undefined;
  private readonly sources: DailyReportSources;

  constructor(private readonly o: ReportServiceOptions) {
    this.sources = {
      tailnet: hostOf(o.config.HEADSCALE_URL),
      timeZone: o.config.HEADWATCH_REPORT_TZ,
      cpuThresholdPercent: o.config.CPU_THRESHOLD_PERCENT,
      flush: () => {
        o.recorder.flush();
        o.history.flush(o.clock());
      },
      nodes: () => o.headscale.listNodes(),
      preAuthKeys: () => o.headscale.listPreAuthKeys(),
      server: async () => o.server() ?? (await o.headscale.serverInfo()),
      activity: o.activity,
      cpu: o.cpu,
      incidents: o.incidents,
    };
    if (o.config.HEADWATCH_REPORT_CRON !== 'off') {
      this.scheduler = new ReportScheduler({
        expression: o.config.HEADWATCH_REPORT_CRON,
        timeZone: o.config.HEADWATCH_REPORT_TZ,
        slots: o.slots,
        build: (at) => this.build(at),
        publish: (report, slot) => o.publish(report.message, `report:${slot}`),
        logger: o.logger,
        clock: o.clock,
      });
    }
  }

  async start(): Promise<void> {
    if (!this.scheduler) {
      this.o.logger.info('HEADWATCH_REPORT_CRON=off: no daily report is scheduled (/headscale report still works)');
      return;
    }
    await this.scheduler.start();
    const next = this.scheduler.nextRun();
    if (next) this.o.logger.info({ next: next.toISOString(), timeZone: this.o.config.HEADWATCH_REPORT_TZ }, 'daily report scheduled');
  }

  async stop(): Promise<void> {
    await this.scheduler?.stop();
  }

  nextRun(): Date | null {
    return this.scheduler?.nextRun() ?? null;
  }

  /** The report as of `at` (the scheduled slot, or now for `/headscale report`). */
  build(at = this.o.clock()): Promise<DailyReport> {
    return buildDailyReport(this.sources, at);
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return 'headscale';
  }
}
