import type { Store } from './db.js';

/**
 * What the Tailscale-style event webhooks have already told (the synthesizer's snapshot: node states, expiries
 * told, the policy last seen), saved in the transaction that queues the events, so a restart neither repeats an
 * event nor misses a change made while headwatch was down.
 */
export class TailnetEventsState {
  private readonly stmts;

  constructor(store: Store) {
    const db = store.db;
    this.stmts = {
      get: db.prepare(`SELECT state FROM tailnet_events_state WHERE id = 1`),
      put: db.prepare(`INSERT INTO tailnet_events_state (id, state, updated_at) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`),
    };
  }

  /** The saved snapshot, or undefined on a first start (or a row that cannot be read: then it starts afresh). */
  load(): unknown {
    const row = this.stmts.get.get() as { state: string } | undefined;
    if (!row) return undefined;
    try {
      return JSON.parse(row.state) as unknown;
    } catch {
      return undefined;
    }
  }

  save(state: unknown, now: number): void {
    this.stmts.put.run(JSON.stringify(state), now);
  }
}
