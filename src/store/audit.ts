import { createHash } from 'node:crypto';
import type { Store } from './db.js';
import { maskSecrets } from '../log/logger.js';

export const GENESIS_HASH = '0'.repeat(64);

export type AuditEvent =
  | 'command' // a read-only command ran
  | 'refused' // permission or validation refusal of a command or click
  | 'requested' // an action asked for approval
  | 'approved-vote' // one approval of an n-of-m request
  | 'approved'
  | 'denied'
  | 'expired'
  | 'click-rejected' // stale, replayed or forged button, self-approval
  | 'executing'
  | 'executed'
  | 'failed'
  | 'interrupted'
  | 'verified'; // what checking Headscale/Docker showed about an interrupted run

export interface AuditEntry {
  /** Principal `<platform>:<userId>`, or `headwatch` for the system itself. */
  actor: string;
  actorName?: string;
  event: AuditEvent;
  command?: string;
  requestId?: number;
  /** Secret-free facts; passed through maskSecrets again before storing as a safety net. */
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  seq: number;
  at: string;
  actor: string;
  actorName: string | null;
  event: AuditEvent;
  command: string | null;
  requestId: number | null;
  detail: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

interface Row {
  seq: number;
  at: string;
  actor: string;
  actor_name: string | null;
  event: string;
  command: string | null;
  request_id: number | null;
  detail: string;
  prev_hash: string;
  hash: string;
}

export type VerifyResult = { ok: true; rows: number } | { ok: false; rows: number; brokenAt: number; reason: string };

function rowHash(r: Omit<Row, 'hash'>): string {
  // A JSON array fixes field order and escaping, so the same row always hashes the same way.
  const canonical = JSON.stringify([r.seq, r.at, r.actor, r.actor_name, r.event, r.command, r.request_id, r.detail, r.prev_hash]);
  return createHash('sha256').update(canonical).digest('hex');
}

function fromRow(r: Row): AuditRow {
  let detail: Record<string, unknown>;
  try {
    detail = JSON.parse(r.detail) as Record<string, unknown>;
  } catch {
    detail = { unparseable: r.detail };
  }
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    actorName: r.actor_name,
    event: r.event as AuditEvent,
    command: r.command,
    requestId: r.request_id,
    detail,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/**
 * Append-only audit trail of every command, request, decision and action. Each row carries the SHA-256 of the
 * previous row, so editing, inserting or removing a row in the middle breaks the chain and {@link AuditLog.verify}
 * names the first bad row. Triggers refuse UPDATE and DELETE so an honest mistake cannot rewrite history;
 * the chain is what shows deliberate tampering by someone who drops the triggers.
 */
export class AuditLog {
  constructor(
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  append(entry: AuditEntry): AuditRow {
    const db = this.store.db;
    const insert = db.transaction((): Row => {
      const last = db.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as
        | { seq: number; hash: string }
        | undefined;
      const base: Omit<Row, 'hash'> = {
        seq: (last?.seq ?? 0) + 1,
        at: new Date(this.clock()).toISOString(),
        actor: entry.actor,
        actor_name: entry.actorName ?? null,
        event: entry.event,
        command: entry.command ?? null,
        request_id: entry.requestId ?? null,
        detail: maskSecrets(JSON.stringify(entry.detail ?? {})),
        prev_hash: last?.hash ?? GENESIS_HASH,
      };
      const row: Row = { ...base, hash: rowHash(base) };
      db.prepare(
        `INSERT INTO audit_log (seq, at, actor, actor_name, event, command, request_id, detail, prev_hash, hash)
         VALUES (@seq, @at, @actor, @actor_name, @event, @command, @request_id, @detail, @prev_hash, @hash)`,
      ).run(row);
      return row;
    });
    // IMMEDIATE: two writers never read the same "last row" and fork the chain.
    return fromRow(insert.immediate());
  }

  /** Newest first. */
  last(n: number): AuditRow[] {
    return (this.store.db.prepare('SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?').all(n) as Row[]).map(fromRow);
  }

  forRequest(requestId: number): AuditRow[] {
    return (this.store.db.prepare('SELECT * FROM audit_log WHERE request_id = ? ORDER BY seq').all(requestId) as Row[]).map(fromRow);
  }

  count(): number {
    return (this.store.db.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n;
  }

  /**
   * Recomputes the chain from the first row. Detects edited rows, rows inserted or removed in the middle and
   * renumbered rows. Removing rows from the end leaves a valid shorter chain: compare `rows` with a count
   * exported elsewhere (e.g. the metrics scrape) if that matters.
   */
  verify(): VerifyResult {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let n = 0;
    for (const r of this.store.db.prepare('SELECT * FROM audit_log ORDER BY seq').iterate() as IterableIterator<Row>) {
      n++;
      if (r.seq !== expectedSeq) return { ok: false, rows: n, brokenAt: r.seq, reason: `row ${expectedSeq} is missing` };
      if (r.prev_hash !== prev) return { ok: false, rows: n, brokenAt: r.seq, reason: 'previous-hash link does not match' };
      const { hash, ...rest } = r;
      if (rowHash(rest) !== hash) return { ok: false, rows: n, brokenAt: r.seq, reason: 'row contents do not match its hash' };
      prev = hash;
      expectedSeq++;
    }
    return { ok: true, rows: n };
  }
}
