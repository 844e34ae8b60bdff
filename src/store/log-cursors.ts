import type { Store } from './db.js';
import { LEASE_FENCE_SQL } from './lease.js';
import type { SqlStatement } from './sql.js';

/** How far one watched container's log has been read. */
export interface LogPosition {
  /** The Docker host's name (`local` for DOCKER_HOST). */
  host: string;
  container: string;
  /** The container the position belongs to: a recreated container (new id) starts its own log. */
  containerId: string;
  /** Timestamp of the newest log line processed, nanoseconds since the epoch (Docker's RFC 3339 nano stamp). */
  ns: bigint;
  /** Lines already processed whose timestamp is exactly `ns` (several lines may share one stamp). */
  seenAtNs: number;
}

export interface StoredLogPosition extends LogPosition {
  /** The lease epoch of the leader that wrote it (0 on a SQLite file, which has no lease). */
  epoch: number;
  updatedAt: number;
}

/** Nanoseconds as 19 digits, so a row needs no integer beyond 2^53 and the text sorts as the number. */
const NS_DIGITS = 19;

/**
 * The log cursor: per watched container (host + container name), the timestamp of the last log line processed
 * and the lease epoch that wrote it, so a new leader (or the same process after a restart) resumes each log
 * where it was left instead of at "now", and a flap logged while nobody read is still seen.
 *
 * Writes are fenced like outbox claims: with replicas (Store.fence set) a position is saved only while this
 * replica still holds that epoch's lease, checked in the statement itself, and never over a row a later epoch
 * wrote. A deposed leader therefore cannot drag a cursor back over lines its successor has processed.
 */
export class LogCursors {
  private readonly get: SqlStatement;
  private readonly list: SqlStatement;
  private readonly put: SqlStatement;
  private fenced: SqlStatement | undefined;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.get = db.prepare(`SELECT host, container, container_id, log_ns, seen_at_ns, epoch, updated_at FROM log_cursors WHERE host = ? AND container = ?`);
    this.list = db.prepare(`SELECT host, container, container_id, log_ns, seen_at_ns, epoch, updated_at FROM log_cursors ORDER BY host, container`);
    this.put = db.prepare(
      `INSERT INTO log_cursors (host, container, container_id, log_ns, seen_at_ns, epoch, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?)
       ON CONFLICT (host, container) DO UPDATE SET container_id = excluded.container_id, log_ns = excluded.log_ns,
         seen_at_ns = excluded.seen_at_ns, epoch = excluded.epoch, updated_at = excluded.updated_at`,
    );
  }

  /** Where this container's log was left, if it ever was read. */
  position(host: string, container: string): StoredLogPosition | undefined {
    const r = this.get.get(host, container) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  all(): StoredLogPosition[] {
    return (this.list.all() as Raw[]).map(fromRaw);
  }

  /**
   * Saves positions in one transaction. Returns false when the store is fenced and this replica's lease no longer
   * holds (nothing was written): the caller is no longer the leader.
   */
  save(positions: readonly LogPosition[], now: number): boolean {
    if (positions.length === 0) return true;
    const fence = this.store.fence;
    try {
      return this.store.transaction(() => {
        for (const p of positions) {
          const ns = encodeNs(p.ns);
          if (!fence) {
            this.put.run(p.host, p.container, p.containerId, ns, p.seenAtNs, now);
            continue;
          }
          // Prepared on first use: only PostgreSQL stores are fenced, and the lease SQL is PostgreSQL's.
          this.fenced ??= this.store.db.prepare(
            `INSERT INTO log_cursors (host, container, container_id, log_ns, seen_at_ns, epoch, updated_at)
             SELECT CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT)
             WHERE ${LEASE_FENCE_SQL}
             ON CONFLICT (host, container) DO UPDATE SET container_id = excluded.container_id, log_ns = excluded.log_ns,
               seen_at_ns = excluded.seen_at_ns, epoch = excluded.epoch, updated_at = excluded.updated_at
             WHERE log_cursors.epoch <= excluded.epoch`,
          );
          const r = this.fenced.run(p.host, p.container, p.containerId, ns, p.seenAtNs, fence.epoch, now, fence.holder, fence.epoch);
          // The fence is the same for every row of the batch: one refusal means none of them may be written.
          if (r.changes === 0) throw new Deposed();
        }
        return true;
      });
    } catch (err) {
      if (err instanceof Deposed) return false;
      throw err;
    }
  }
}

/** Thrown inside the batch's transaction so that a refused row rolls the whole batch back. */
class Deposed extends Error {
  constructor() {
    super('the leader lease no longer holds: log cursor not written');
  }
}

export function encodeNs(ns: bigint): string {
  if (ns < 0n) throw new RangeError('a log position is never before the epoch');
  return ns.toString().padStart(NS_DIGITS, '0');
}

interface Raw {
  host: string;
  container: string;
  container_id: string;
  log_ns: string;
  seen_at_ns: number | string;
  epoch: number | string;
  updated_at: number | string;
}

function fromRaw(r: Raw): StoredLogPosition {
  return {
    host: r.host,
    container: r.container,
    containerId: r.container_id,
    ns: BigInt(r.log_ns),
    seenAtNs: Number(r.seen_at_ns),
    epoch: Number(r.epoch),
    updatedAt: Number(r.updated_at),
  };
}
