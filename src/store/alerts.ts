import type { Store } from './db.js';
import { fingerprintHash, type Alert, type AlertKind, type AlertStatus, type Severity } from '../alerts/model.js';

interface Row {
  fingerprint: string;
  kind: string;
  severity: string;
  subject: string;
  summary: string;
  evidence: string;
  labels: string;
  status: string;
  starts_at: string;
  updated_at: string;
  ends_at: string | null;
  occurrences: number;
}

function fromRow(r: Row): Alert {
  return {
    fingerprint: r.fingerprint,
    kind: r.kind as AlertKind,
    severity: r.severity as Severity,
    subject: r.subject,
    summary: r.summary,
    evidence: JSON.parse(r.evidence) as string[],
    labels: JSON.parse(r.labels) as Record<string, string>,
    status: r.status as AlertStatus,
    startsAt: r.starts_at,
    updatedAt: r.updated_at,
    endsAt: r.ends_at,
    occurrences: r.occurrences,
  };
}

/**
 * Alerts (the latest version of each fingerprint) and detector snapshots, so a restart neither forgets firing
 * alerts nor re-announces them. The engine writes the alerts it judges; the dispatcher writes what it is handed
 * (the same row again, or its own platform-down alerts) so that it can always re-read what it has to notify.
 */
export class AlertRepository {
  private readonly s;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.s = {
      get: db.prepare('SELECT * FROM alerts WHERE fingerprint = ?'),
      byHash: db.prepare('SELECT * FROM alerts WHERE fingerprint_hash = ? LIMIT 1'),
      firing: db.prepare(`SELECT * FROM alerts WHERE status = 'firing' ORDER BY starts_at`),
      firingOfKind: db.prepare(`SELECT * FROM alerts WHERE status = 'firing' AND kind = ? ORDER BY starts_at`),
      anyFiring: db.prepare(`SELECT 1 FROM alerts WHERE status = 'firing' AND kind = ? LIMIT 1`),
      recent: db.prepare('SELECT * FROM alerts ORDER BY updated_at DESC LIMIT ?'),
      counts: db.prepare('SELECT kind, status, COUNT(*) AS n FROM alerts GROUP BY kind, status'),
      save: db.prepare(
        `INSERT INTO alerts (fingerprint, kind, severity, subject, summary, evidence, labels, status, starts_at, updated_at, ends_at, occurrences, fingerprint_hash)
         VALUES (@fingerprint, @kind, @severity, @subject, @summary, @evidence, @labels, @status, @startsAt, @updatedAt, @endsAt, @occurrences, @hash)
         ON CONFLICT(fingerprint) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, subject = excluded.subject,
           summary = excluded.summary, evidence = excluded.evidence, labels = excluded.labels, status = excluded.status,
           starts_at = excluded.starts_at, updated_at = excluded.updated_at, ends_at = excluded.ends_at, occurrences = excluded.occurrences`,
      ),
      saveState: db.prepare(
        'INSERT INTO detector_state (name, state, saved_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at',
      ),
      loadState: db.prepare('SELECT state FROM detector_state WHERE name = ?'),
    };
  }

  get(fingerprint: string): Alert | undefined {
    const r = this.s.get.get(fingerprint) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** The alert whose fingerprint has this {@link fingerprintHash} (button ids carry it for long fingerprints). */
  byFingerprintHash(hash: string): Alert | undefined {
    const r = this.s.byHash.get(hash) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  firing(kind?: AlertKind): Alert[] {
    return ((kind ? this.s.firingOfKind.all(kind) : this.s.firing.all()) as Row[]).map(fromRow);
  }

  firingOfKinds(kinds: readonly string[]): Alert[] {
    if (kinds.length === 0) return [];
    // One placeholder per kind: the same text on SQLite and PostgreSQL (no json_each there).
    const marks = kinds.map(() => '?').join(', ');
    return (this.store.db.prepare(`SELECT * FROM alerts WHERE status = 'firing' AND kind IN (${marks}) ORDER BY starts_at`).all(...kinds) as Row[]).map(fromRow);
  }

  isAnyFiring(kind: string): boolean {
    return this.s.anyFiring.get(kind) !== undefined;
  }

  recent(limit: number): Alert[] {
    return (this.s.recent.all(limit) as Row[]).map(fromRow);
  }

  countByKindStatus(): { kind: string; status: string; n: number }[] {
    return this.s.counts.all() as { kind: string; status: string; n: number }[];
  }

  save(a: Alert): void {
    this.s.save.run({ ...a, evidence: JSON.stringify(a.evidence), labels: JSON.stringify(a.labels), hash: fingerprintHash(a.fingerprint) });
  }

  saveDetectorState(name: string, state: unknown, at: Date): void {
    this.s.saveState.run(name, JSON.stringify(state), at.toISOString());
  }

  loadDetectorState(name: string): unknown {
    const r = this.s.loadState.get(name) as { state: string } | undefined;
    return r ? (JSON.parse(r.state) as unknown) : undefined;
  }
}
