import type { Store } from './db.js';

export interface LeaseRow {
  holder: string;
  epoch: number;
  /** Server time (ms since the epoch) when the lease runs out unless renewed. */
  expiresAt: number;
  /** The database server's clock when this row was read: every replica judges expiry by that one clock. */
  serverNow: number;
}

/** The database server's clock in ms: replicas' own clocks may disagree, the server's is one for all. */
const NOW_MS = `(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint`;

/**
 * The leader lease: one row (name 'leader') with its holder, an epoch that grows with every change of holder,
 * and an expiry on the database server's clock. Only PostgreSQL stores have one (a SQLite file has one process).
 * A row, not an advisory lock: a paused process keeps its session and so its lock, but not a row it stops
 * renewing. {@link fence} is the condition every outbox claim adds, so a deposed leader's claim finds nothing.
 */
export class LeaseRepository {
  constructor(private readonly store: Store) {
    if (store.dialect !== 'postgres') throw new Error('the leader lease needs PostgreSQL (HEADWATCH_DATABASE_URL)');
  }

  /** Takes the lease when nobody holds it or it has run out; the new epoch is one above the last. */
  acquire(holder: string, ttlMs: number): LeaseRow | undefined {
    const r = this.store.db
      .prepare(
        `INSERT INTO leader_lease (name, holder, epoch, expires_at, renewed_at) VALUES ('leader', ?, 1, ${NOW_MS} + ?, ${NOW_MS})
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = leader_lease.epoch + 1,
           expires_at = excluded.expires_at, renewed_at = excluded.renewed_at
         WHERE leader_lease.expires_at <= ${NOW_MS}
         RETURNING holder, epoch, expires_at, ${NOW_MS} AS server_now`,
      )
      .get(holder, ttlMs) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Extends the lease this holder has under this epoch, only while it has not run out. */
  renew(holder: string, epoch: number, ttlMs: number): LeaseRow | undefined {
    const r = this.store.db
      .prepare(
        `UPDATE leader_lease SET expires_at = ${NOW_MS} + ?, renewed_at = ${NOW_MS}
         WHERE name = 'leader' AND holder = ? AND epoch = ? AND expires_at > ${NOW_MS}
         RETURNING holder, epoch, expires_at, ${NOW_MS} AS server_now`,
      )
      .get(ttlMs, holder, epoch) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Gives the lease up at a clean stop, so a standby need not wait for it to run out. */
  release(holder: string, epoch: number): void {
    this.store.db.prepare(`UPDATE leader_lease SET expires_at = ${NOW_MS} WHERE name = 'leader' AND holder = ? AND epoch = ?`).run(holder, epoch);
  }

  current(): LeaseRow | undefined {
    const r = this.store.db.prepare(`SELECT holder, epoch, expires_at, ${NOW_MS} AS server_now FROM leader_lease WHERE name = 'leader'`).get() as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }
}

/**
 * The SQL condition "this holder still holds this epoch's lease, now": added to every outbox claim (one
 * statement, so the check and the claim are one decision). `?` placeholders: holder, epoch.
 */
export const LEASE_FENCE_SQL = `EXISTS (SELECT 1 FROM leader_lease WHERE name = 'leader' AND holder = ? AND epoch = ? AND expires_at > ${NOW_MS})`;

interface Raw {
  holder: string;
  epoch: number;
  expires_at: number;
  server_now: number;
}

function fromRaw(r: Raw): LeaseRow {
  return { holder: r.holder, epoch: Number(r.epoch), expiresAt: Number(r.expires_at), serverNow: Number(r.server_now) };
}
