import type { Store } from './db.js';

/**
 * Which scheduled report slots have been sent, so a slot is never sent twice (two triggers in one process,
 * a restart at the scheduled minute, a catch-up after downtime), and since when each schedule has been
 * watched (a slot before that was not missed, headwatch did not exist yet).
 */
export class ReportSlots {
  private readonly stmts;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.stmts = {
      claim: db.prepare(`INSERT INTO report_slots (schedule, slot, claimed_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`),
      claimed: db.prepare(`SELECT 1 FROM report_slots WHERE schedule = ? AND slot = ?`),
      started: db.prepare(`INSERT INTO report_schedules (schedule, first_started_at) VALUES (?, ?) ON CONFLICT DO NOTHING`),
      firstStarted: db.prepare(`SELECT first_started_at AS at FROM report_schedules WHERE schedule = ?`),
      prune: db.prepare(`DELETE FROM report_slots WHERE claimed_at < ?`),
    };
  }

  /**
   * Claims `slot` (ms epoch of the scheduled minute) for `schedule`; true only for the first claim ever.
   * Call it inside the transaction that enqueues the report, so claim and send are one decision.
   */
  claim(schedule: string, slot: number, now: number): boolean {
    return this.stmts.claim.run(schedule, slot, now).changes === 1;
  }

  isClaimed(schedule: string, slot: number): boolean {
    return this.stmts.claimed.get(schedule, slot) !== undefined;
  }

  /** Records the first start of `schedule` (kept across restarts) and returns it. */
  markStarted(schedule: string, now: number): number {
    this.stmts.started.run(schedule, now);
    return (this.stmts.firstStarted.get(schedule) as { at: number }).at;
  }

  prune(before: number): number {
    return this.stmts.prune.run(before).changes;
  }

  /** Runs `fn` in one SQLite transaction (claim + enqueue). */
  transaction<T>(fn: () => T): T {
    return this.store.db.transaction(fn)();
  }
}
