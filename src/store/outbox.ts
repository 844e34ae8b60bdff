import { randomBytes } from 'node:crypto';
import type { Store } from './db.js';
import { LEASE_FENCE_SQL } from './lease.js';
import type { SqlStatement } from './sql.js';

export type OutboxOp = 'post' | 'edit' | 'reply' | 'alerts';

export interface OutboxRow {
  id: number;
  lane: string;
  op: OutboxOp;
  /** post: key the new message is stored under; edit: key of the message to edit; reply: key of the parent. */
  refKey: string;
  /** Sent with the request (Discord nonce, Slack message metadata) so a retry can be recognised. */
  idemKey: string;
  payload: unknown;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  nextAt: number;
  /** An earlier attempt may have reached the platform (connection lost before the answer). */
  maybeDelivered: boolean;
  lastError: string | null;
  createdAt: number;
}

interface Raw {
  id: number;
  lane: string;
  op: OutboxOp;
  ref_key: string;
  idem_key: string;
  payload: string;
  status: 'pending' | 'sent' | 'dead';
  attempts: number;
  next_at: number;
  maybe_delivered: number;
  last_error: string | null;
  created_at: number;
}

const fromRaw = (r: Raw): OutboxRow => ({
  id: r.id,
  lane: r.lane,
  op: r.op,
  refKey: r.ref_key,
  idemKey: r.idem_key,
  payload: JSON.parse(r.payload) as unknown,
  status: r.status,
  attempts: r.attempts,
  nextAt: r.next_at,
  maybeDelivered: r.maybe_delivered === 1,
  lastError: r.last_error,
  createdAt: r.created_at,
});

/** Short enough for a Discord nonce (max 25 characters). */
export function newIdempotencyKey(): string {
  return `hw-${randomBytes(9).toString('base64url')}`;
}

/**
 * Durable outbox: every notification is written here (in the same transaction as the decision to send it)
 * before any attempt is made, so a crash or restart never loses or repeats a decision. Rows of one lane
 * (one destination channel) are delivered strictly in id order.
 */
export class Outbox {
  private readonly stmts;
  private fenced: SqlStatement | undefined;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.stmts = {
      insert: db.prepare(
        `INSERT INTO outbox (lane, op, ref_key, idem_key, payload, next_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      heads: db.prepare(
        `SELECT o.* FROM outbox o JOIN (SELECT lane, MIN(id) AS id FROM outbox WHERE status = 'pending' GROUP BY lane) h ON o.id = h.id`,
      ),
      get: db.prepare(`SELECT * FROM outbox WHERE id = ?`),
      beginAttempt: db.prepare(`UPDATE outbox SET attempts = attempts + 1, maybe_delivered = 1 WHERE id = ? AND status = 'pending'`),
      sent: db.prepare(`UPDATE outbox SET status = 'sent', done_at = ?, result = ?, last_error = NULL WHERE id = ?`),
      retry: db.prepare(`UPDATE outbox SET next_at = ?, last_error = ?, maybe_delivered = ?, hold_until = ? WHERE id = ?`),
      wake: db.prepare(
        `UPDATE outbox SET next_at = ? WHERE status = 'pending' AND lane = ? AND next_at > ? AND (hold_until IS NULL OR hold_until <= ?)`,
      ),
      dead: db.prepare(`UPDATE outbox SET status = 'dead', done_at = ?, last_error = ? WHERE id = ?`),
      pendingByLane: db.prepare(`SELECT lane, COUNT(*) AS n FROM outbox WHERE status = 'pending' GROUP BY lane`),
      postsSince: db.prepare(`SELECT COUNT(*) AS n FROM outbox WHERE lane = ? AND op = 'post' AND created_at >= ?`),
      lastEdit: db.prepare(
        `SELECT MAX(created_at) AS decided, MAX(done_at) AS done, SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending
         FROM outbox WHERE lane = ? AND ref_key = ? AND op = 'edit'`,
      ),
      editsSince: db.prepare(`SELECT lane, created_at FROM outbox WHERE op = 'edit' AND created_at > ? ORDER BY id`),
      prune: db.prepare(`DELETE FROM outbox WHERE status != 'pending' AND done_at < ?`),
    };
  }

  /** Records a send; call inside the transaction that decided it. Returns the row id. */
  enqueue(lane: string, op: OutboxOp, refKey: string, payload: unknown, now: number): number {
    const row = this.stmts.insert.get(lane, op, refKey, newIdempotencyKey(), JSON.stringify(payload), now, now) as { id: number };
    return Number(row.id);
  }

  /** The oldest pending row of every lane: only these may be attempted (per-lane order). */
  heads(): OutboxRow[] {
    return (this.stmts.heads.all() as Raw[]).map(fromRaw);
  }

  get(id: number): OutboxRow | undefined {
    const r = this.stmts.get.get(id) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /**
   * The claim of a row, written before the request leaves, so a crash mid-request is known to be ambiguous after
   * a restart. With replicas (Store.fence set) the claim holds only while this replica's lease does, checked in
   * the same statement: false means "not yours to send" — send nothing.
   */
  beginAttempt(id: number): boolean {
    const fence = this.store.fence;
    if (!fence) return this.stmts.beginAttempt.run(id).changes === 1;
    // Prepared on first use: only PostgreSQL stores are fenced, and the lease SQL is PostgreSQL's.
    this.fenced ??= this.store.db.prepare(
      `UPDATE outbox SET attempts = attempts + 1, maybe_delivered = 1 WHERE id = ? AND status = 'pending' AND ${LEASE_FENCE_SQL}`,
    );
    const info = this.fenced.run(id, fence.holder, fence.epoch);
    return info.changes === 1;
  }

  markSent(id: number, now: number, result?: string): void {
    this.stmts.sent.run(now, result ?? null, id);
  }

  /** `rateLimited`: `at` is the platform's Retry-After, which wake() never shortens. */
  scheduleRetry(id: number, at: number, error: string, maybeDelivered: boolean, rateLimited = false): void {
    this.stmts.retry.run(at, error, maybeDelivered ? 1 : 0, rateLimited ? at : null, id);
  }

  /**
   * Makes the waiting rows of a lane due now (its platform reconnected or answered again), except rows held by a
   * Retry-After that has not passed. Returns how many rows were woken.
   */
  wake(lane: string, now: number): number {
    return this.stmts.wake.run(now, lane, now, now).changes;
  }

  markDead(id: number, now: number, error: string): void {
    this.stmts.dead.run(now, error, id);
  }

  pendingByLane(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.stmts.pendingByLane.all() as { lane: string; n: number }[]) out.set(r.lane, r.n);
    return out;
  }

  /** Channel posts decided since `since` (the per-channel budget counts these, including unsent ones). */
  postsSince(lane: string, since: number): number {
    return (this.stmts.postsSince.get(lane, since) as { n: number }).n;
  }

  /**
   * When message `refKey` on `lane` was last edited: the later of the last edit's decision and its delivery (a
   * late delivery — retries, a platform away — counts from when the platform got it). Infinity while an edit is
   * still pending: the next one waits for it. Undefined if never edited. For src/dispatch/edit-pacing.ts.
   */
  lastEditAt(lane: string, refKey: string): number | undefined {
    const r = this.stmts.lastEdit.get(lane, refKey) as { decided: number | null; done: number | null; pending: number | null } | undefined;
    if (!r || r.decided === null) return undefined;
    if (Number(r.pending ?? 0) > 0) return Infinity;
    return Math.max(Number(r.decided), Number(r.done ?? r.decided));
  }

  /** Every edit decided after `since`, on any lane (the per-channel and per-workspace edit limits count these). */
  editTimesSince(since: number): { lane: string; at: number }[] {
    return (this.stmts.editsSince.all(since) as { lane: string; created_at: number }[]).map((r) => ({ lane: r.lane, at: Number(r.created_at) }));
  }

  /** Drops finished rows older than `before`, keeping the file small. */
  prune(before: number): number {
    return this.stmts.prune.run(before).changes;
  }

  all(lane?: string): OutboxRow[] {
    const rows = lane
      ? this.store.db.prepare('SELECT * FROM outbox WHERE lane = ? ORDER BY id').all(lane)
      : this.store.db.prepare('SELECT * FROM outbox ORDER BY id').all();
    return (rows as Raw[]).map(fromRaw);
  }
}
