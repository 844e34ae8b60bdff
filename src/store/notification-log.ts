import type { Store } from './db.js';

/** What a lane was last told about one alert, and where (its own message, or a storm digest). */
export interface NotificationLogEntry {
  lane: string;
  fingerprint: string;
  kind: string;
  status: 'firing' | 'resolved';
  /** The logical message (outbox ref key) the alert lives in; null for console/webhook lanes. */
  refKey: string | null;
  /** Folded into a storm digest rather than posted on its own. */
  folded: boolean;
  notifiedAt: number;
  /** What a user would notice changing (see contentHash in src/dispatch): an equal hash is not worth an edit. */
  contentHash: string;
  /** The alert's `labels.count`, summed in the digest headline (RATELIMIT ×12,430). */
  weight: number;
}

/** Per kind, how many alerts of one digest fire and resolved, and their summed weight. */
export interface DigestKindCount {
  kind: string;
  firing: number;
  resolved: number;
  weight: number;
}

interface Raw {
  lane: string;
  fingerprint: string;
  kind: string;
  status: 'firing' | 'resolved';
  ref_key: string | null;
  folded: number;
  notified_at: number;
  content_hash: string;
  weight: number;
}

/**
 * The notification log (Alertmanager's nflog): per lane and alert, what was last notified. Dedup compares with
 * it, repeats are scheduled from it, and a storm digest counts its alerts in it. Table dispatch_log.
 */
export class NotificationLog {
  private readonly s;

  constructor(store: Store) {
    const db = store.db;
    this.s = {
      get: db.prepare(`SELECT * FROM dispatch_log WHERE lane = ? AND fingerprint = ?`),
      put: db.prepare(
        `INSERT INTO dispatch_log (lane, fingerprint, kind, status, ref_key, folded, notified_at, content_hash, weight)
         VALUES (@lane, @fingerprint, @kind, @status, @refKey, @folded, @notifiedAt, @contentHash, @weight)
         ON CONFLICT(lane, fingerprint) DO UPDATE SET kind = excluded.kind, status = excluded.status, ref_key = excluded.ref_key,
           folded = excluded.folded, notified_at = excluded.notified_at, content_hash = excluded.content_hash, weight = excluded.weight`,
      ),
      // Skips alerts that already wait in their group (dispatch_pending): a repeat never overtakes a real change.
      dueRepeats: db.prepare(
        `SELECT l.lane, l.fingerprint, l.kind FROM dispatch_log l
         WHERE l.status = 'firing' AND l.notified_at <= ?
           AND NOT EXISTS (SELECT 1 FROM dispatch_pending p WHERE p.lane = l.lane AND p.fingerprint = l.fingerprint)
         LIMIT 1000`,
      ),
      digestCounts: db.prepare(
        `SELECT kind, SUM(CASE WHEN status = 'firing' THEN 1 ELSE 0 END) AS firing, SUM(CASE WHEN status = 'resolved' THEN 1 ELSE 0 END) AS resolved, SUM(weight) AS weight
         FROM dispatch_log WHERE lane = ? AND ref_key = ? GROUP BY kind ORDER BY firing DESC, kind`,
      ),
    };
  }

  get(lane: string, fingerprint: string): NotificationLogEntry | undefined {
    const r = this.s.get.get(lane, fingerprint) as Raw | undefined;
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

  put(e: NotificationLogEntry): void {
    this.s.put.run({ ...e, folded: e.folded ? 1 : 0 });
  }

  /** Firing alerts last notified at or before `before` and not already waiting (at most 1000 per call). */
  dueRepeats(before: number): { lane: string; fingerprint: string; kind: string }[] {
    return this.s.dueRepeats.all(before) as { lane: string; fingerprint: string; kind: string }[];
  }

  /** The alerts folded into one digest (by its ref key), counted per kind. */
  digestCounts(lane: string, refKey: string): DigestKindCount[] {
    return this.s.digestCounts.all(lane, refKey) as DigestKindCount[];
  }
}
