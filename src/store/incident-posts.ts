import type { Store } from './db.js';

export interface IncidentPost {
  incidentId: number;
  lane: string;
  postedAt: number;
  /** When the message on this lane was last (re)drawn. */
  publishedAt: number;
}

export interface DirtyIncident {
  incidentId: number;
  /** First change not yet shown. */
  since: number;
  /** Thread lines waiting to be posted (member joined, cleared, merged, Re-register done…). */
  notes: string[];
}

/**
 * The incident publisher's memory: which chat lanes carry an incident's message, and which incidents changed
 * since they were last drawn. Both are written in the transaction that correlated the alert, so a crash between
 * correlation and the outbox never loses an incident message or a thread line.
 */
export class IncidentPosts {
  private readonly stmts;

  constructor(private readonly store: Store) {
    const db = store.db;
    // SQL both engines take (src/store/sql.ts): ON CONFLICT … DO NOTHING, no JSON functions.
    this.stmts = {
      posts: db.prepare(`SELECT incident_id, lane, posted_at, published_at FROM incident_posts WHERE incident_id = ? ORDER BY lane`),
      addPost: db.prepare(`INSERT INTO incident_posts (incident_id, lane, posted_at, published_at) VALUES (?, ?, ?, ?) ON CONFLICT (incident_id, lane) DO NOTHING`),
      published: db.prepare(`UPDATE incident_posts SET published_at = ? WHERE incident_id = ? AND lane = ?`),
      getDirty: db.prepare(`SELECT notes FROM incident_dirty WHERE incident_id = ?`),
      addDirty: db.prepare(`INSERT INTO incident_dirty (incident_id, since, notes) VALUES (?, ?, ?)`),
      setNotes: db.prepare(`UPDATE incident_dirty SET notes = ? WHERE incident_id = ?`),
      dirty: db.prepare(`SELECT incident_id, since, notes FROM incident_dirty ORDER BY since, incident_id`),
      clean: db.prepare(`DELETE FROM incident_dirty WHERE incident_id = ?`),
    };
  }

  posts(incidentId: number): IncidentPost[] {
    return (this.stmts.posts.all(incidentId) as { incident_id: number; lane: string; posted_at: number; published_at: number }[]).map((r) => ({
      incidentId: r.incident_id,
      lane: r.lane,
      postedAt: r.posted_at,
      publishedAt: r.published_at,
    }));
  }

  addPost(incidentId: number, lane: string, now: number): void {
    this.stmts.addPost.run(incidentId, lane, now, now);
  }

  published(incidentId: number, lane: string, now: number): void {
    this.stmts.published.run(now, incidentId, lane);
  }

  /** The incident changed at `now`; a note is appended to its pending thread lines. */
  markDirty(incidentId: number, now: number, note?: string): void {
    this.store.transaction(() => {
      const row = this.stmts.getDirty.get(incidentId) as { notes: string } | undefined;
      if (!row) this.stmts.addDirty.run(incidentId, now, JSON.stringify(note === undefined ? [] : [note]));
      else if (note !== undefined) this.stmts.setNotes.run(JSON.stringify([...(JSON.parse(row.notes) as string[]), note]), incidentId);
    });
  }

  dirty(): DirtyIncident[] {
    return (this.stmts.dirty.all() as { incident_id: number; since: number; notes: string }[]).map((r) => ({
      incidentId: r.incident_id,
      since: r.since,
      notes: JSON.parse(r.notes) as string[],
    }));
  }

  /** Everything pending of this incident was handed to the outbox. */
  clean(incidentId: number): void {
    this.stmts.clean.run(incidentId);
  }

  transaction<T>(fn: () => T): T {
    return this.store.transaction(fn);
  }
}
