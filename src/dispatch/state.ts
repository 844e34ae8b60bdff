import { createHash } from 'node:crypto';
import type { Store } from '../store/db.js';
import type { Alert, AlertTransition } from '../alerts/model.js';

/**
 * The dispatcher's durable memory (one SQLite file, tables prefixed dispatch_):
 * - dispatch_alerts: the latest version of every alert it was handed (inhibition, repeats, silence buttons);
 * - dispatch_pending: changes waiting for their group's next flush (group_wait / group_interval);
 * - dispatch_log: per lane and alert, what was last notified and where (dedup, repeat_interval, edits);
 * - dispatch_groups: when each group last flushed;
 * - dispatch_digest / dispatch_digest_notes: the storm digest per lane and the lines for its thread.
 */
const MIGRATIONS = [
  `CREATE TABLE dispatch_alerts (
     fingerprint TEXT PRIMARY KEY,
     hash TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     alert TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX dispatch_alerts_kind ON dispatch_alerts(kind, status);
   CREATE INDEX dispatch_alerts_hash ON dispatch_alerts(hash);
   CREATE TABLE dispatch_pending (
     lane TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     group_key TEXT NOT NULL,
     change TEXT NOT NULL,
     at INTEGER NOT NULL,
     PRIMARY KEY (lane, fingerprint)
   );
   CREATE INDEX dispatch_pending_group ON dispatch_pending(lane, group_key, at);
   CREATE TABLE dispatch_log (
     lane TEXT NOT NULL,
     fingerprint TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL,
     ref_key TEXT,
     folded INTEGER NOT NULL DEFAULT 0,
     notified_at INTEGER NOT NULL,
     content_hash TEXT NOT NULL,
     weight INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (lane, fingerprint)
   );
   CREATE INDEX dispatch_log_repeat ON dispatch_log(status, notified_at);
   CREATE INDEX dispatch_log_ref ON dispatch_log(lane, ref_key, kind, status);
   CREATE TABLE dispatch_groups (
     lane TEXT NOT NULL,
     group_key TEXT NOT NULL,
     last_flush_at INTEGER NOT NULL,
     PRIMARY KEY (lane, group_key)
   );
   CREATE TABLE dispatch_digest (
     lane TEXT PRIMARY KEY,
     ref_key TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     last_fold_at INTEGER NOT NULL,
     last_edit_at INTEGER NOT NULL DEFAULT 0,
     posted INTEGER NOT NULL DEFAULT 0,
     dirty INTEGER NOT NULL DEFAULT 1,
     active INTEGER NOT NULL DEFAULT 1,
     notes_dropped INTEGER NOT NULL DEFAULT 0
   );
   CREATE TABLE dispatch_digest_notes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     lane TEXT NOT NULL,
     ref_key TEXT NOT NULL,
     line TEXT NOT NULL
   );
   CREATE INDEX dispatch_digest_notes_ref ON dispatch_digest_notes(lane, ref_key, id);`,
];

export type PendingChange = AlertTransition['change'] | 'repeat';

export interface LogEntry {
  lane: string;
  fingerprint: string;
  kind: string;
  status: 'firing' | 'resolved';
  refKey: string | null;
  folded: boolean;
  notifiedAt: number;
  contentHash: string;
  weight: number;
}

export interface DigestRow {
  lane: string;
  refKey: string;
  startedAt: number;
  lastFoldAt: number;
  lastEditAt: number;
  posted: boolean;
  dirty: boolean;
  active: boolean;
  notesDropped: number;
}

/** Most notes kept per digest between two thread replies; the rest are only counted. */
export const MAX_DIGEST_NOTES = 40;

export function fingerprintHash(fp: string): string {
  return createHash('sha256').update(fp).digest('hex').slice(0, 16);
}

/** What a user would notice changing in an alert message. */
export function contentHash(a: Alert): string {
  return createHash('sha256')
    .update(JSON.stringify([a.status, a.severity, a.summary, a.evidence.slice(-5), a.occurrences]))
    .digest('hex')
    .slice(0, 16);
}

/** A numeric `labels.count` (e.g. RATELIMIT lines in the window) weighs the storm digest's headline. */
export function alertWeight(a: Alert): number {
  const n = Number(a.labels['count']);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

export class DispatchState {
  readonly db;
  private readonly s;

  constructor(store: Store) {
    store.migrate('dispatch', MIGRATIONS);
    const db = (this.db = store.db);
    this.s = {
      upsertAlert: db.prepare(
        `INSERT INTO dispatch_alerts (fingerprint, hash, kind, status, alert, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(fingerprint) DO UPDATE SET kind = excluded.kind, status = excluded.status, alert = excluded.alert, updated_at = excluded.updated_at`,
      ),
      getAlert: db.prepare(`SELECT alert FROM dispatch_alerts WHERE fingerprint = ?`),
      alertByHash: db.prepare(`SELECT alert FROM dispatch_alerts WHERE hash = ? LIMIT 1`),
      firingOfKinds: db.prepare(`SELECT fingerprint, alert FROM dispatch_alerts WHERE status = 'firing' AND kind IN (SELECT value FROM json_each(?))`),
      countFiring: db.prepare(`SELECT COUNT(*) AS n FROM dispatch_alerts WHERE status = 'firing' AND kind = ?`),
      upsertPending: db.prepare(
        `INSERT INTO dispatch_pending (lane, fingerprint, group_key, change, at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(lane, fingerprint) DO UPDATE SET group_key = excluded.group_key,
           change = CASE WHEN excluded.change = 'repeat' THEN dispatch_pending.change ELSE excluded.change END`,
      ),
      groupPending: db.prepare(
        `SELECT p.fingerprint, p.change, a.alert FROM dispatch_pending p JOIN dispatch_alerts a ON a.fingerprint = p.fingerprint
         WHERE p.lane = ? AND p.group_key = ? ORDER BY p.at, p.rowid`,
      ),
      deleteGroupPending: db.prepare(`DELETE FROM dispatch_pending WHERE lane = ? AND group_key = ?`),
      pendingGroups: db.prepare(`SELECT lane, group_key, MIN(at) AS first FROM dispatch_pending GROUP BY lane, group_key`),
      groupFlushes: db.prepare(`SELECT lane, group_key, last_flush_at FROM dispatch_groups`),
      setGroupFlush: db.prepare(
        `INSERT INTO dispatch_groups (lane, group_key, last_flush_at) VALUES (?, ?, ?)
         ON CONFLICT(lane, group_key) DO UPDATE SET last_flush_at = excluded.last_flush_at`,
      ),
      getLog: db.prepare(`SELECT * FROM dispatch_log WHERE lane = ? AND fingerprint = ?`),
      putLog: db.prepare(
        `INSERT INTO dispatch_log (lane, fingerprint, kind, status, ref_key, folded, notified_at, content_hash, weight)
         VALUES (@lane, @fingerprint, @kind, @status, @refKey, @folded, @notifiedAt, @contentHash, @weight)
         ON CONFLICT(lane, fingerprint) DO UPDATE SET kind = excluded.kind, status = excluded.status, ref_key = excluded.ref_key,
           folded = excluded.folded, notified_at = excluded.notified_at, content_hash = excluded.content_hash, weight = excluded.weight`,
      ),
      dueRepeats: db.prepare(
        `SELECT l.lane, l.fingerprint, l.kind FROM dispatch_log l
         WHERE l.status = 'firing' AND l.notified_at <= ?
           AND NOT EXISTS (SELECT 1 FROM dispatch_pending p WHERE p.lane = l.lane AND p.fingerprint = l.fingerprint)
         LIMIT 1000`,
      ),
      digestCounts: db.prepare(
        `SELECT kind, SUM(status = 'firing') AS firing, SUM(status = 'resolved') AS resolved, SUM(weight) AS weight
         FROM dispatch_log WHERE lane = ? AND ref_key = ? GROUP BY kind ORDER BY firing DESC, kind`,
      ),
      getDigest: db.prepare(`SELECT * FROM dispatch_digest WHERE lane = ?`),
      allDigests: db.prepare(`SELECT * FROM dispatch_digest WHERE active = 1 OR dirty = 1`),
      putDigest: db.prepare(
        `INSERT INTO dispatch_digest (lane, ref_key, started_at, last_fold_at, last_edit_at, posted, dirty, active, notes_dropped)
         VALUES (@lane, @refKey, @startedAt, @lastFoldAt, @lastEditAt, @posted, @dirty, @active, @notesDropped)
         ON CONFLICT(lane) DO UPDATE SET ref_key = excluded.ref_key, started_at = excluded.started_at, last_fold_at = excluded.last_fold_at,
           last_edit_at = excluded.last_edit_at, posted = excluded.posted, dirty = excluded.dirty, active = excluded.active,
           notes_dropped = excluded.notes_dropped`,
      ),
      noteCount: db.prepare(`SELECT COUNT(*) AS n FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ?`),
      addNote: db.prepare(`INSERT INTO dispatch_digest_notes (lane, ref_key, line) VALUES (?, ?, ?)`),
      takeNotes: db.prepare(`SELECT line FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ? ORDER BY id`),
      dropNotes: db.prepare(`DELETE FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ?`),
    };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  saveAlert(a: Alert, now: number): void {
    this.s.upsertAlert.run(a.fingerprint, fingerprintHash(a.fingerprint), a.kind, a.status, JSON.stringify(a), now);
  }

  getAlert(fp: string): Alert | undefined {
    const r = this.s.getAlert.get(fp) as { alert: string } | undefined;
    return r ? (JSON.parse(r.alert) as Alert) : undefined;
  }

  alertByHash(hash: string): Alert | undefined {
    const r = this.s.alertByHash.get(hash) as { alert: string } | undefined;
    return r ? (JSON.parse(r.alert) as Alert) : undefined;
  }

  firingOfKinds(kinds: string[]): Alert[] {
    return (this.s.firingOfKinds.all(JSON.stringify(kinds)) as { alert: string }[]).map((r) => JSON.parse(r.alert) as Alert);
  }

  isFiring(kind: string): boolean {
    return (this.s.countFiring.get(kind) as { n: number }).n > 0;
  }

  addPending(lane: string, fp: string, group: string, change: PendingChange, at: number): void {
    this.s.upsertPending.run(lane, fp, group, change, at);
  }

  /** Takes (reads and deletes) a group's pending changes, oldest first. Call inside a transaction. */
  takeGroup(lane: string, group: string): { fingerprint: string; change: PendingChange; alert: Alert }[] {
    const rows = this.s.groupPending.all(lane, group) as { fingerprint: string; change: PendingChange; alert: string }[];
    this.s.deleteGroupPending.run(lane, group);
    return rows.map((r) => ({ fingerprint: r.fingerprint, change: r.change, alert: JSON.parse(r.alert) as Alert }));
  }

  pendingGroups(): { lane: string; group: string; first: number }[] {
    return (this.s.pendingGroups.all() as { lane: string; group_key: string; first: number }[]).map((r) => ({
      lane: r.lane,
      group: r.group_key,
      first: r.first,
    }));
  }

  groupFlushes(): { lane: string; group: string; at: number }[] {
    return (this.s.groupFlushes.all() as { lane: string; group_key: string; last_flush_at: number }[]).map((r) => ({
      lane: r.lane,
      group: r.group_key,
      at: r.last_flush_at,
    }));
  }

  setGroupFlush(lane: string, group: string, at: number): void {
    this.s.setGroupFlush.run(lane, group, at);
  }

  getLog(lane: string, fp: string): LogEntry | undefined {
    const r = this.s.getLog.get(lane, fp) as
      | { lane: string; fingerprint: string; kind: string; status: 'firing' | 'resolved'; ref_key: string | null; folded: number; notified_at: number; content_hash: string; weight: number }
      | undefined;
    if (!r) return undefined;
    return {
      lane: r.lane,
      fingerprint: r.fingerprint,
      kind: r.kind,
      status: r.status,
      refKey: r.ref_key,
      folded: r.folded === 1,
      notifiedAt: r.notified_at,
      contentHash: r.content_hash,
      weight: r.weight,
    };
  }

  putLog(e: LogEntry): void {
    this.s.putLog.run({ ...e, folded: e.folded ? 1 : 0 });
  }

  dueRepeats(before: number): { lane: string; fingerprint: string; kind: string }[] {
    return this.s.dueRepeats.all(before) as { lane: string; fingerprint: string; kind: string }[];
  }

  digestCounts(lane: string, refKey: string): { kind: string; firing: number; resolved: number; weight: number }[] {
    return this.s.digestCounts.all(lane, refKey) as { kind: string; firing: number; resolved: number; weight: number }[];
  }

  getDigest(lane: string): DigestRow | undefined {
    const r = this.s.getDigest.get(lane) as RawDigest | undefined;
    return r ? fromRawDigest(r) : undefined;
  }

  digestsToMaintain(): DigestRow[] {
    return (this.s.allDigests.all() as RawDigest[]).map(fromRawDigest);
  }

  putDigest(d: DigestRow): void {
    this.s.putDigest.run({ ...d, posted: d.posted ? 1 : 0, dirty: d.dirty ? 1 : 0, active: d.active ? 1 : 0 });
  }

  /** Adds a thread line for a digest; beyond MAX_DIGEST_NOTES lines are counted, not kept (bounded storage). */
  addNote(d: DigestRow, line: string): void {
    const n = (this.s.noteCount.get(d.lane, d.refKey) as { n: number }).n;
    if (n >= MAX_DIGEST_NOTES) d.notesDropped++;
    else this.s.addNote.run(d.lane, d.refKey, line);
  }

  takeNotes(lane: string, refKey: string): string[] {
    const lines = (this.s.takeNotes.all(lane, refKey) as { line: string }[]).map((r) => r.line);
    this.s.dropNotes.run(lane, refKey);
    return lines;
  }
}

interface RawDigest {
  lane: string;
  ref_key: string;
  started_at: number;
  last_fold_at: number;
  last_edit_at: number;
  posted: number;
  dirty: number;
  active: number;
  notes_dropped: number;
}

function fromRawDigest(r: RawDigest): DigestRow {
  return {
    lane: r.lane,
    refKey: r.ref_key,
    startedAt: r.started_at,
    lastFoldAt: r.last_fold_at,
    lastEditAt: r.last_edit_at,
    posted: r.posted === 1,
    dirty: r.dirty === 1,
    active: r.active === 1,
    notesDropped: r.notes_dropped,
  };
}
