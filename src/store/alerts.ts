import type { Store } from './db.js';
import type { Alert, AlertKind, AlertStatus, Severity } from '../alerts/model.js';

const MIGRATIONS = [
  `CREATE TABLE alerts (
     fingerprint TEXT PRIMARY KEY,
     kind TEXT NOT NULL,
     severity TEXT NOT NULL,
     subject TEXT NOT NULL,
     summary TEXT NOT NULL,
     evidence TEXT NOT NULL,
     labels TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('firing','resolved')),
     starts_at TEXT NOT NULL,
     updated_at TEXT NOT NULL,
     ends_at TEXT,
     occurrences INTEGER NOT NULL DEFAULT 1
   );
   CREATE INDEX alerts_status ON alerts(status, kind);
   CREATE TABLE detector_state (name TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at TEXT NOT NULL);`,
];

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

/** Alerts and detector snapshots, so a restart neither forgets firing alerts nor re-announces them. */
export class AlertRepository {
  constructor(private readonly store: Store) {
    store.migrate('alerts', MIGRATIONS);
  }

  get(fingerprint: string): Alert | undefined {
    const r = this.store.db.prepare('SELECT * FROM alerts WHERE fingerprint = ?').get(fingerprint) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  firing(kind?: AlertKind): Alert[] {
    const rows = (
      kind
        ? this.store.db.prepare(`SELECT * FROM alerts WHERE status = 'firing' AND kind = ? ORDER BY starts_at`).all(kind)
        : this.store.db.prepare(`SELECT * FROM alerts WHERE status = 'firing' ORDER BY starts_at`).all()
    ) as Row[];
    return rows.map(fromRow);
  }

  recent(limit: number): Alert[] {
    return (this.store.db.prepare('SELECT * FROM alerts ORDER BY updated_at DESC LIMIT ?').all(limit) as Row[]).map(fromRow);
  }

  countByKindStatus(): { kind: string; status: string; n: number }[] {
    return this.store.db.prepare('SELECT kind, status, COUNT(*) AS n FROM alerts GROUP BY kind, status').all() as {
      kind: string;
      status: string;
      n: number;
    }[];
  }

  save(a: Alert): void {
    this.store.db
      .prepare(
        `INSERT INTO alerts (fingerprint, kind, severity, subject, summary, evidence, labels, status, starts_at, updated_at, ends_at, occurrences)
         VALUES (@fingerprint, @kind, @severity, @subject, @summary, @evidence, @labels, @status, @startsAt, @updatedAt, @endsAt, @occurrences)
         ON CONFLICT(fingerprint) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, subject = excluded.subject,
           summary = excluded.summary, evidence = excluded.evidence, labels = excluded.labels, status = excluded.status,
           starts_at = excluded.starts_at, updated_at = excluded.updated_at, ends_at = excluded.ends_at, occurrences = excluded.occurrences`,
      )
      .run({ ...a, evidence: JSON.stringify(a.evidence), labels: JSON.stringify(a.labels) });
  }

  saveDetectorState(name: string, state: unknown, at: Date): void {
    this.store.db
      .prepare(
        'INSERT INTO detector_state (name, state, saved_at) VALUES (?, ?, ?) ON CONFLICT(name) DO UPDATE SET state = excluded.state, saved_at = excluded.saved_at',
      )
      .run(name, JSON.stringify(state), at.toISOString());
  }

  loadDetectorState(name: string): unknown {
    const r = this.store.db.prepare('SELECT state FROM detector_state WHERE name = ?').get(name) as { state: string } | undefined;
    return r ? (JSON.parse(r.state) as unknown) : undefined;
  }
}
