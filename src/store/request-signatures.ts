import type { Store } from './db.js';

/** What the Slack request guard needs: "have I accepted this signature before?", answered durably. */
export interface SeenSignatures {
  /** Records `signature` until `expiresAt`; false when it was already recorded (a replay). */
  firstSeen(signature: string, expiresAt: number, now: number): boolean;
}

/**
 * Signatures of accepted Slack HTTP-mode requests, kept until their freshness window ends, so a request captured
 * on the wire is refused when sent again — also after a restart (an in-memory cache forgets it).
 */
export class RequestSignatures implements SeenSignatures {
  private readonly stmts;
  private lastPrune = 0;

  constructor(store: Store) {
    const db = store.db;
    this.stmts = {
      insert: db.prepare('INSERT INTO slack_request_signatures (signature, expires_at) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      prune: db.prepare('DELETE FROM slack_request_signatures WHERE expires_at < ?'),
      count: db.prepare('SELECT COUNT(*) AS n FROM slack_request_signatures'),
    };
  }

  firstSeen(signature: string, expiresAt: number, now: number): boolean {
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      this.stmts.prune.run(now);
    }
    return this.stmts.insert.run(signature, expiresAt).changes === 1;
  }

  count(): number {
    return (this.stmts.count.get() as { n: number }).n;
  }
}

/** The same contract in memory, for an adapter built without a store (one process only). */
export class MemorySignatures implements SeenSignatures {
  private readonly seen = new Map<string, number>();

  firstSeen(signature: string, expiresAt: number, now: number): boolean {
    for (const [sig, until] of this.seen) if (until < now) this.seen.delete(sig);
    if (this.seen.has(signature)) return false;
    this.seen.set(signature, expiresAt);
    return true;
  }
}
