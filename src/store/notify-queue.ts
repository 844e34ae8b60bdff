import type { AlertTransition } from '../alerts/model.js';
import type { Store } from './db.js';

/** What a lane is to be told about an alert at its group's next flush; a repeat never overrides a real change. */
export type PendingChange = AlertTransition['change'] | 'repeat';

/**
 * Changes waiting for their group's next flush (group_wait / group_interval), per lane (destination channel)
 * and group (the alert kind), and when each group last flushed: the dispatcher's timers after a restart.
 * Tables dispatch_pending and dispatch_groups.
 */
export class NotifyQueue {
  private readonly s;

  constructor(store: Store) {
    const db = store.db;
    this.s = {
      add: db.prepare(
        `INSERT INTO dispatch_pending (lane, fingerprint, group_key, change, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(lane, fingerprint) DO UPDATE SET group_key = excluded.group_key,
           change = CASE WHEN excluded.change = 'repeat' THEN dispatch_pending.change ELSE excluded.change END`,
      ),
      group: db.prepare(`SELECT fingerprint, change FROM dispatch_pending WHERE lane = ? AND group_key = ? ORDER BY at, rowid`),
      deleteGroup: db.prepare(`DELETE FROM dispatch_pending WHERE lane = ? AND group_key = ?`),
      one: db.prepare(`SELECT fingerprint, group_key, change FROM dispatch_pending WHERE lane = ? AND fingerprint = ?`),
      deleteOne: db.prepare(`DELETE FROM dispatch_pending WHERE lane = ? AND fingerprint = ?`),
      groupSize: db.prepare(`SELECT COUNT(*) AS n FROM dispatch_pending WHERE lane = ? AND group_key = ?`),
      pendingGroups: db.prepare(`SELECT lane, group_key, MIN(at) AS first FROM dispatch_pending GROUP BY lane, group_key`),
      flushes: db.prepare(`SELECT lane, group_key, last_flush_at FROM dispatch_groups`),
      ownMessages: db.prepare(
        `SELECT p.lane, p.fingerprint, l.ref_key, p.at FROM dispatch_pending p
         JOIN dispatch_log l ON l.lane = p.lane AND l.fingerprint = p.fingerprint
         WHERE l.ref_key IS NOT NULL AND l.folded = 0 ORDER BY p.at`,
      ),
      setFlush: db.prepare(
        `INSERT INTO dispatch_groups (lane, group_key, last_flush_at) VALUES (?, ?, ?)
         ON CONFLICT(lane, group_key) DO UPDATE SET last_flush_at = excluded.last_flush_at`,
      ),
    };
  }

  add(lane: string, fingerprint: string, group: string, change: PendingChange, at: number): void {
    this.s.add.run(lane, fingerprint, group, change, at);
  }

  /**
   * Takes (reads and deletes) a group's pending changes, oldest first, except those of the alerts in `keep` (they
   * stay queued). Call inside a transaction.
   */
  takeGroup(lane: string, group: string, keep?: ReadonlySet<string>): { fingerprint: string; change: PendingChange }[] {
    const rows = this.s.group.all(lane, group) as { fingerprint: string; change: PendingChange }[];
    if (!keep || keep.size === 0) {
      this.s.deleteGroup.run(lane, group);
      return rows;
    }
    const taken = rows.filter((r) => !keep.has(r.fingerprint));
    for (const r of taken) this.s.deleteOne.run(lane, r.fingerprint);
    return taken;
  }

  /** Takes (reads and deletes) one alert's pending change in a lane, if any. Call inside a transaction. */
  take(lane: string, fingerprint: string): { fingerprint: string; group: string; change: PendingChange } | undefined {
    const row = this.s.one.get(lane, fingerprint) as { fingerprint: string; group_key: string; change: PendingChange } | undefined;
    if (!row) return undefined;
    this.s.deleteOne.run(lane, fingerprint);
    return { fingerprint: row.fingerprint, group: row.group_key, change: row.change };
  }

  /** The group an alert's pending change in a lane waits in, if it has one. */
  groupOf(lane: string, fingerprint: string): string | undefined {
    return (this.s.one.get(lane, fingerprint) as { group_key: string } | undefined)?.group_key;
  }

  /** How many changes a group still has waiting. */
  groupSize(lane: string, group: string): number {
    return Number((this.s.groupSize.get(lane, group) as { n: number | string }).n);
  }

  /** Groups with changes waiting, and since when. */
  pendingGroups(): { lane: string; group: string; first: number }[] {
    return (this.s.pendingGroups.all() as { lane: string; group_key: string; first: number }[]).map((r) => ({ lane: r.lane, group: r.group_key, first: r.first }));
  }

  /** Queued changes for alerts that have a message of their own on the lane (prompt edits, after a restart). */
  pendingForOwnMessages(): { lane: string; fingerprint: string; refKey: string; at: number }[] {
    return (this.s.ownMessages.all() as { lane: string; fingerprint: string; ref_key: string; at: number }[]).map((r) => ({
      lane: r.lane,
      fingerprint: r.fingerprint,
      refKey: r.ref_key,
      at: Number(r.at),
    }));
  }

  groupFlushes(): { lane: string; group: string; at: number }[] {
    return (this.s.flushes.all() as { lane: string; group_key: string; last_flush_at: number }[]).map((r) => ({ lane: r.lane, group: r.group_key, at: r.last_flush_at }));
  }

  setGroupFlush(lane: string, group: string, at: number): void {
    this.s.setFlush.run(lane, group, at);
  }
}
