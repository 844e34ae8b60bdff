import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from 'pino';
import type { ReportSlots } from '../store/report-slots.js';
import type { DailyReport } from './daily.js';

export interface ReportSchedulerOptions {
  /** A 5-field cron expression (validated by the config schema). */
  expression: string;
  timeZone: string;
  slots: ReportSlots;
  /** Builds the report for the slot's time. */
  build(at: number): Promise<DailyReport>;
  /**
   * Hands the report to delivery (enqueue in the outbox). Called inside the transaction that claims the slot,
   * so it must be synchronous: a crash either loses both (the catch-up sends it) or keeps both (sent once).
   */
  publish(report: DailyReport, slot: number): void;
  logger: Logger;
  /** A slot missed while headwatch was down is sent at start if it passed less than this long ago (6 h). */
  catchUpMs?: number;
  clock?: () => number;
  /** Schedule name in the store (one schedule today). */
  name?: string;
}

const MINUTE = 60_000;

/**
 * Sends the daily report on a node-cron schedule in the operator's zone. Every send claims its slot in the
 * store in the same transaction that enqueues it, so a slot is sent at most once: a second trigger in the
 * same minute, a restart at the scheduled minute, and the catch-up at start all find the claim. At start, the
 * newest slot within `catchUpMs` that nobody claimed (and that fell after headwatch first ran this schedule)
 * is sent once.
 */
export class ReportScheduler {
  private task: ScheduledTask | undefined;
  private readonly inFlight = new Map<number, Promise<boolean>>();
  private readonly name: string;
  private readonly clock: () => number;

  constructor(private readonly o: ReportSchedulerOptions) {
    this.name = o.name ?? 'daily';
    this.clock = o.clock ?? Date.now;
  }

  /** Starts the cron task and sends a missed slot. Resolves once the catch-up (if any) is enqueued. */
  async start(): Promise<void> {
    const firstStarted = this.o.slots.markStarted(this.name, this.clock());
    this.task = cron.createTask(this.o.expression, (ctx) => this.fire(floorMinute(ctx.date.getTime()), 'scheduled'), {
      name: `headwatch-report-${this.name}`,
      timezone: this.o.timeZone,
      noOverlap: false,
      unref: true,
      logger: {
        info: (m) => this.o.logger.debug(m),
        warn: (m) => this.o.logger.warn(m),
        error: (m, e) => this.o.logger.error({ err: e ?? m }, 'report schedule error'),
        debug: (m) => this.o.logger.debug(m),
      },
    });
    await this.task.start();
    const missed = this.missedSlot(firstStarted);
    if (missed !== undefined) await this.fire(missed, 'missed');
  }

  async stop(): Promise<void> {
    await this.task?.destroy();
    this.task = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** When the next scheduled report is due (for `status` and logs). */
  nextRun(): Date | null {
    return this.task?.getNextRun() ?? null;
  }

  /**
   * Builds and enqueues the report for `slot` unless it was already sent. Concurrent calls for one slot share
   * one build. Returns true when this call enqueued it.
   */
  fire(slot: number, why: 'scheduled' | 'missed'): Promise<boolean> {
    const running = this.inFlight.get(slot);
    if (running) return running;
    const p = this.run(slot, why).finally(() => this.inFlight.delete(slot));
    this.inFlight.set(slot, p);
    return p;
  }

  private async run(slot: number, why: 'scheduled' | 'missed'): Promise<boolean> {
    if (this.o.slots.isClaimed(this.name, slot)) return false;
    let report: DailyReport;
    try {
      report = await this.o.build(slot);
    } catch (err) {
      this.o.logger.error({ err, slot: new Date(slot).toISOString() }, 'daily report could not be built; the next slot will try again');
      return false;
    }
    const sent = this.o.slots.transaction(() => {
      if (!this.o.slots.claim(this.name, slot, this.clock())) return false;
      this.o.publish(report, slot);
      return true;
    });
    if (sent) this.o.logger.info({ slot: new Date(slot).toISOString(), why }, why === 'missed' ? 'daily report missed while headwatch was down: sent now' : 'daily report sent');
    this.o.slots.prune(this.clock() - 30 * 86_400_000);
    return sent;
  }

  /** The newest matching minute within the catch-up window that was not claimed, if any. */
  private missedSlot(firstStarted: number): number | undefined {
    const now = this.clock();
    const window = this.o.catchUpMs ?? 6 * 3_600_000;
    for (let t = floorMinute(now); t > now - window; t -= MINUTE) {
      if (t <= firstStarted) return undefined;
      if (!this.task!.match(new Date(t))) continue;
      return this.o.slots.isClaimed(this.name, t) ? undefined : t;
    }
    return undefined;
  }
}

function floorMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE;
}
