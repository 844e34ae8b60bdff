import { randomUUID } from 'node:crypto';
import type { Store } from './db.js';

export type SilenceMatcher = 'fingerprint' | 'kind' | 'subject';

export interface Silence {
  id: string;
  matcher: SilenceMatcher;
  value: string;
  /** `<platform>:<userId>` or `system`. */
  createdBy: string;
  reason?: string;
  createdAt: number;
  expiresAt: number;
  /** Set when expired early by hand. */
  expiredAt?: number;
}

export interface NewSilence {
  matcher: SilenceMatcher;
  value: string;
  createdBy: string;
  durationMs: number;
  reason?: string;
}

interface Raw {
  id: string;
  matcher: SilenceMatcher;
  value: string;
  created_by: string;
  reason: string | null;
  created_at: number;
  expires_at: number;
  expired_at: number | null;
}

const fromRaw = (r: Raw): Silence => ({
  id: r.id,
  matcher: r.matcher,
  value: r.value,
  createdBy: r.created_by,
  ...(r.reason ? { reason: r.reason } : {}),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  ...(r.expired_at !== null ? { expiredAt: r.expired_at } : {}),
});

export const MAX_SILENCE_MS = 30 * 86_400_000;

/**
 * Silences mute notifications (the alert is still stored and counted) until they expire. A silence matches
 * one alert by fingerprint, every alert of a kind, or every alert about a subject (node or container).
 */
export class Silences {
  private readonly stmts;
  private cache: { at: number; list: Silence[] } | undefined;

  constructor(
    store: Store,
    private readonly clock: () => number = Date.now,
  ) {
    this.stmts = {
      insert: store.db.prepare(
        `INSERT INTO silences (id, matcher, value, created_by, reason, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      active: store.db.prepare(`SELECT * FROM silences WHERE expired_at IS NULL AND expires_at > ? ORDER BY created_at, rowid`),
      get: store.db.prepare(`SELECT * FROM silences WHERE id = ? OR id LIKE ? LIMIT 2`),
      expire: store.db.prepare(`UPDATE silences SET expired_at = ? WHERE id = ? AND expired_at IS NULL AND expires_at > ?`),
    };
  }

  /** Creates a silence. Throws a RangeError with an operator-readable message on bad input. */
  create(s: NewSilence): Silence {
    if (!s.value.trim()) throw new RangeError(`a silence needs a ${s.matcher} to match`);
    if (!(s.durationMs > 0) || s.durationMs > MAX_SILENCE_MS) {
      throw new RangeError('a silence must last between 1 second and 30 days');
    }
    const now = this.clock();
    const silence: Silence = {
      id: randomUUID(),
      matcher: s.matcher,
      value: s.value.trim(),
      createdBy: s.createdBy,
      ...(s.reason ? { reason: s.reason } : {}),
      createdAt: now,
      expiresAt: now + s.durationMs,
    };
    this.stmts.insert.run(silence.id, silence.matcher, silence.value, silence.createdBy, s.reason ?? null, now, silence.expiresAt);
    this.cache = undefined;
    return silence;
  }

  /** Active silences, oldest first. */
  list(): Silence[] {
    return (this.stmts.active.all(this.clock()) as Raw[]).map(fromRaw);
  }

  /** Ends a silence now. Accepts the full id or a unique prefix (ids are shown shortened in chat). */
  expire(idOrPrefix: string): Silence | undefined {
    const rows = this.stmts.get.all(idOrPrefix, `${idOrPrefix.replace(/[%_]/g, '')}%`) as Raw[];
    if (rows.length !== 1) return undefined;
    const now = this.clock();
    const changed = this.stmts.expire.run(now, rows[0]!.id, now).changes;
    this.cache = undefined;
    return changed === 1 ? { ...fromRaw(rows[0]!), expiredAt: now } : undefined;
  }

  /** The silence that mutes this alert now, if any. Cached for a second: called once per alert in storms. */
  matching(alert: { fingerprint: string; kind: string; subject: string }): Silence | undefined {
    const now = this.clock();
    if (!this.cache || now - this.cache.at > 1000 || now < this.cache.at) this.cache = { at: now, list: this.list() };
    return this.cache.list.find(
      (s) =>
        s.expiresAt > now &&
        ((s.matcher === 'fingerprint' && s.value === alert.fingerprint) ||
          (s.matcher === 'kind' && s.value === alert.kind) ||
          (s.matcher === 'subject' && s.value === alert.subject)),
    );
  }
}
