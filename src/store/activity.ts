import type { Store } from './db.js';

export const ACTIVITY_KINDS = ['node-transition', 'container-death', 'alert-fired', 'alert-resolved', 'incident-opened', 'incident-resolved'] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

export interface ActivityCount {
  kind: ActivityKind;
  /** Node id or container name. */
  subject: string;
  /** What people call it (node name); equals subject for containers. */
  label: string;
  /** Start of the hour, ms since the epoch. */
  hour: number;
  n: number;
}

export interface ActivityTotal {
  subject: string;
  label: string;
  n: number;
}

/**
 * Hourly counts of things that happen often and matter in aggregate: node connect/disconnect transitions
 * (as the flapping detector counts them, one per real state change whichever source saw it), container
 * deaths, alerts fired and resolved (subject: the alert kind) and incidents opened and resolved. The daily
 * report's figures come from here; nothing else needs per-event rows.
 */
export class ActivityCounts {
  private readonly stmts;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.stmts = {
      add: db.prepare(
        `INSERT INTO activity_hours (kind, subject, label, hour, n) VALUES (@kind, @subject, @label, @hour, @n)
         ON CONFLICT(kind, subject, hour) DO UPDATE SET n = activity_hours.n + excluded.n, label = excluded.label`,
      ),
      top: db.prepare(
        `SELECT subject, MAX(label) AS label, SUM(n) AS n FROM activity_hours
         WHERE kind = ? AND hour >= ? AND hour < ? GROUP BY subject ORDER BY n DESC, subject LIMIT ?`,
      ),
      total: db.prepare(`SELECT COALESCE(SUM(n), 0) AS n FROM activity_hours WHERE kind = ? AND hour >= ? AND hour < ?`),
      prune: db.prepare(`DELETE FROM activity_hours WHERE hour < ?`),
    };
  }

  add(rows: readonly ActivityCount[]): void {
    if (rows.length === 0) return;
    this.store.db.transaction(() => {
      for (const r of rows) this.stmts.add.run(r);
    })();
  }

  /** Subjects with the most counts of `kind` in [from, to) (hours that start in the range). */
  top(kind: ActivityKind, from: number, to: number, limit: number): ActivityTotal[] {
    return this.stmts.top.all(kind, from, to, limit) as ActivityTotal[];
  }

  total(kind: ActivityKind, from: number, to: number): number {
    return (this.stmts.total.get(kind, from, to) as { n: number }).n;
  }

  prune(before: number): number {
    return this.stmts.prune.run(before).changes;
  }
}
