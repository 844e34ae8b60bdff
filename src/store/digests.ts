import type { Store } from './db.js';

/** A lane's storm digest: the one message alerts fold into while the channel is over its budget. */
export interface Digest {
  lane: string;
  refKey: string;
  startedAt: number;
  lastFoldAt: number;
  lastEditAt: number;
  posted: boolean;
  /** Something changed since the last post or edit. */
  dirty: boolean;
  active: boolean;
  /** Thread lines counted but not kept (beyond MAX_DIGEST_NOTES). */
  notesDropped: number;
}

/** Most notes kept per digest between two thread replies; the rest are only counted. */
export const MAX_DIGEST_NOTES = 40;

interface Raw {
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

function fromRaw(r: Raw): Digest {
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

/** Storm digests per lane and the lines waiting for their thread. Tables dispatch_digest and dispatch_digest_notes. */
export class Digests {
  private readonly s;

  constructor(store: Store) {
    const db = store.db;
    this.s = {
      get: db.prepare(`SELECT * FROM dispatch_digest WHERE lane = ?`),
      toMaintain: db.prepare(`SELECT * FROM dispatch_digest WHERE active = 1 OR dirty = 1`),
      put: db.prepare(
        `INSERT INTO dispatch_digest (lane, ref_key, started_at, last_fold_at, last_edit_at, posted, dirty, active, notes_dropped)
         VALUES (@lane, @refKey, @startedAt, @lastFoldAt, @lastEditAt, @posted, @dirty, @active, @notesDropped)
         ON CONFLICT(lane) DO UPDATE SET ref_key = excluded.ref_key, started_at = excluded.started_at, last_fold_at = excluded.last_fold_at,
           last_edit_at = excluded.last_edit_at, posted = excluded.posted, dirty = excluded.dirty, active = excluded.active,
           notes_dropped = excluded.notes_dropped`,
      ),
      noteCount: db.prepare(`SELECT COUNT(*) AS n FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ?`),
      addNote: db.prepare(`INSERT INTO dispatch_digest_notes (lane, ref_key, line) VALUES (?, ?, ?)`),
      notes: db.prepare(`SELECT line FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ? ORDER BY id`),
      dropNotes: db.prepare(`DELETE FROM dispatch_digest_notes WHERE lane = ? AND ref_key = ?`),
    };
  }

  get(lane: string): Digest | undefined {
    const r = this.s.get.get(lane) as Raw | undefined;
    return r ? fromRaw(r) : undefined;
  }

  /** Digests still in a storm or with changes not yet shown. */
  toMaintain(): Digest[] {
    return (this.s.toMaintain.all() as Raw[]).map(fromRaw);
  }

  put(d: Digest): void {
    this.s.put.run({ ...d, posted: d.posted ? 1 : 0, dirty: d.dirty ? 1 : 0, active: d.active ? 1 : 0 });
  }

  /** Adds a thread line for a digest; beyond MAX_DIGEST_NOTES lines are counted in `d`, not kept (bounded storage). */
  addNote(d: Digest, line: string): void {
    const n = (this.s.noteCount.get(d.lane, d.refKey) as { n: number }).n;
    if (n >= MAX_DIGEST_NOTES) d.notesDropped++;
    else this.s.addNote.run(d.lane, d.refKey, line);
  }

  /** Takes (reads and deletes) the lines waiting for a digest's thread, oldest first. */
  takeNotes(lane: string, refKey: string): string[] {
    const lines = (this.s.notes.all(lane, refKey) as { line: string }[]).map((r) => r.line);
    this.s.dropNotes.run(lane, refKey);
    return lines;
  }
}
