import type { Db } from './db.js';
import type { Dialect } from './sql.js';
import { fingerprintHash } from '../alerts/model.js';

/**
 * Every table headwatch keeps, as ONE ordered list of migrations. A database remembers which ids it has applied
 * (table schema_migrations); opening it applies the rest, in list order, in one transaction, so an upgrade either
 * completes or leaves the file as it was. Never edit or reorder an entry that has shipped: append a new one.
 *
 * The `<module>/1` entries are, verbatim, what each module used to apply itself (tracked per module in the old
 * schema_versions table); databases from those releases are recognised and carried forward without loss.
 */
export interface Migration {
  id: string;
  /** SQL, or a function for steps SQL cannot express (hashing existing rows). */
  up: string | ((db: Db) => void);
  /**
   * The same step for PostgreSQL where SQLite's text does not run there (triggers, json_extract). Without it
   * PostgreSQL runs `up` through {@link postgresDdl} (wider integer and real types, identity columns).
   */
  postgres?: string | ((db: Db) => void);
}

export const MIGRATIONS: readonly Migration[] = [
  // alerts (one row per fingerprint, latest version) and detector snapshots: src/store/alerts.ts
  { id: 'alerts/1', up: `CREATE TABLE alerts (
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
   CREATE TABLE detector_state (name TEXT PRIMARY KEY, state TEXT NOT NULL, saved_at TEXT NOT NULL);` },
  // silences: src/store/silences.ts
  { id: 'silences/1', up: `CREATE TABLE silences (
     id TEXT PRIMARY KEY,
     matcher TEXT NOT NULL CHECK (matcher IN ('fingerprint','kind','subject')),
     value TEXT NOT NULL,
     created_by TEXT NOT NULL,
     reason TEXT,
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     expired_at INTEGER
   );
   CREATE INDEX silences_active ON silences(expires_at);` },
  // the durable outbox: src/store/outbox.ts
  { id: 'outbox/1', up: `CREATE TABLE outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     lane TEXT NOT NULL,
     op TEXT NOT NULL CHECK (op IN ('post','edit','reply','alerts')),
     ref_key TEXT NOT NULL,
     idem_key TEXT NOT NULL UNIQUE,
     payload TEXT NOT NULL,
     status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','sent','dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     next_at INTEGER NOT NULL,
     maybe_delivered INTEGER NOT NULL DEFAULT 0,
     last_error TEXT,
     created_at INTEGER NOT NULL,
     done_at INTEGER,
     result TEXT
   );
   CREATE INDEX outbox_pending ON outbox(status, lane, id);
   CREATE INDEX outbox_posts ON outbox(lane, op, created_at);` },
  // where each logical message landed per channel: src/store/deliveries.ts
  { id: 'deliveries/1', up: `CREATE TABLE deliveries (
     lane TEXT NOT NULL,
     ref_key TEXT NOT NULL,
     platform TEXT NOT NULL,
     channel_id TEXT NOT NULL,
     message_id TEXT NOT NULL,
     thread_id TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (lane, ref_key)
   );
   CREATE INDEX deliveries_message ON deliveries(platform, message_id);` },
  // dispatcher memory (dispatch_alerts was folded into alerts by dispatch/2): src/store/notify-queue.ts, notification-log.ts, digests.ts
  { id: 'dispatch/1', up: `CREATE TABLE dispatch_alerts (
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
   CREATE INDEX dispatch_digest_notes_ref ON dispatch_digest_notes(lane, ref_key, id);` },
  // approval requests and votes: src/store/approvals.ts
  { id: 'approvals/1', up: `CREATE TABLE approvals (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     nonce TEXT NOT NULL,
     command TEXT NOT NULL,
     args TEXT NOT NULL,
     summary TEXT NOT NULL,
     requester_platform TEXT NOT NULL,
     requester_id TEXT NOT NULL,
     requester_name TEXT,
     channel_id TEXT NOT NULL,
     card_channel TEXT,
     card_message TEXT,
     card_thread TEXT,
     required INTEGER NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('pending','approved','running','done','failed','denied','expired')),
     created_at INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     decided_at INTEGER,
     decided_by TEXT,
     result TEXT,
     updated_at INTEGER NOT NULL
   );
   CREATE INDEX approvals_state ON approvals(state, expires_at);
   CREATE TABLE approval_votes (
     approval_id INTEGER NOT NULL REFERENCES approvals(id),
     principal TEXT NOT NULL,
     name TEXT,
     decision TEXT NOT NULL CHECK (decision IN ('approve','deny')),
     at INTEGER NOT NULL,
     PRIMARY KEY (approval_id, principal)
   );` },
  // the hash-chained audit trail: src/store/audit.ts
  { id: 'audit/1', up: `CREATE TABLE audit_log (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     actor_name TEXT,
     event TEXT NOT NULL,
     command TEXT,
     request_id INTEGER,
     detail TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;`,
    postgres: `CREATE TABLE audit_log (
     seq BIGINT PRIMARY KEY,
     at TEXT NOT NULL,
     actor TEXT NOT NULL,
     actor_name TEXT,
     event TEXT NOT NULL,
     command TEXT,
     request_id BIGINT,
     detail TEXT NOT NULL,
     prev_hash TEXT NOT NULL,
     hash TEXT NOT NULL
   );
   CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$;
   CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
   CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();` },
  // The platform's own Retry-After: a reconnect must not wake a row before it (see Outbox.wake()).
  { id: 'outbox/2', up: `ALTER TABLE outbox ADD COLUMN hold_until INTEGER;` },
  // Slack HTTP-mode request signatures, kept for their freshness window (replay guard): src/store/request-signatures.ts
  { id: 'slack_request_signatures/1', up: `CREATE TABLE slack_request_signatures (
     signature TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   );
   CREATE INDEX slack_request_signatures_expiry ON slack_request_signatures(expires_at);` },
  // The silence button looks an alert up by a short hash when its fingerprint is too long for a Discord custom_id.
  {
    id: 'alerts/2',
    up: (db) => {
      db.exec(`ALTER TABLE alerts ADD COLUMN fingerprint_hash TEXT; CREATE INDEX alerts_fingerprint_hash ON alerts(fingerprint_hash);`);
      const set = db.prepare(`UPDATE alerts SET fingerprint_hash = ? WHERE fingerprint = ?`);
      for (const r of db.prepare(`SELECT fingerprint FROM alerts`).all() as { fingerprint: string }[]) set.run(fingerprintHash(r.fingerprint), r.fingerprint);
    },
  },
  // One copy of the alerts: dispatch_alerts repeated the alerts table, plus the dispatcher's own platform-down
  // alerts, which move over (the engine's rows are authoritative where both exist).
  {
    id: 'dispatch/2',
    up: `INSERT INTO alerts (fingerprint, kind, severity, subject, summary, evidence, labels, status, starts_at, updated_at, ends_at, occurrences, fingerprint_hash)
         SELECT d.fingerprint, d.kind, json_extract(d.alert, '$.severity'), json_extract(d.alert, '$.subject'), json_extract(d.alert, '$.summary'),
                COALESCE(json_extract(d.alert, '$.evidence'), '[]'), COALESCE(json_extract(d.alert, '$.labels'), '{}'), d.status,
                json_extract(d.alert, '$.startsAt'), json_extract(d.alert, '$.updatedAt'), json_extract(d.alert, '$.endsAt'),
                COALESCE(json_extract(d.alert, '$.occurrences'), 1), d.hash
         FROM dispatch_alerts d WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.fingerprint = d.fingerprint);
         DROP TABLE dispatch_alerts;`,
    postgres: `INSERT INTO alerts (fingerprint, kind, severity, subject, summary, evidence, labels, status, starts_at, updated_at, ends_at, occurrences, fingerprint_hash)
         SELECT d.fingerprint, d.kind, d.alert::json->>'severity', d.alert::json->>'subject', d.alert::json->>'summary',
                COALESCE(d.alert::json->>'evidence', '[]'), COALESCE(d.alert::json->>'labels', '{}'), d.status,
                d.alert::json->>'startsAt', d.alert::json->>'updatedAt', d.alert::json->>'endsAt',
                COALESCE((d.alert::json->>'occurrences')::bigint, 1), d.hash
         FROM dispatch_alerts d WHERE NOT EXISTS (SELECT 1 FROM alerts a WHERE a.fingerprint = d.fingerprint);
         DROP TABLE dispatch_alerts;`,
  },
  // hourly activity counts for the daily report: src/store/activity.ts
  { id: 'activity_hours/1', up: `CREATE TABLE activity_hours (
     kind TEXT NOT NULL,
     subject TEXT NOT NULL,
     label TEXT NOT NULL,
     hour INTEGER NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (kind, subject, hour)
   );
   CREATE INDEX activity_hours_time ON activity_hours(hour);` },
  // per-minute CPU figures: src/store/cpu-minutes.ts
  { id: 'cpu_minutes/1', up: `CREATE TABLE cpu_minutes (
     container TEXT NOT NULL,
     minute INTEGER NOT NULL,
     peak REAL NOT NULL,
     mean REAL NOT NULL,
     samples INTEGER NOT NULL,
     cpus REAL NOT NULL,
     PRIMARY KEY (container, minute)
   );
   CREATE INDEX cpu_minutes_time ON cpu_minutes(minute);` },
  // scheduled report slots sent: src/store/report-slots.ts
  { id: 'report_slots/1', up: `CREATE TABLE report_slots (
     schedule TEXT NOT NULL,
     slot INTEGER NOT NULL,
     claimed_at INTEGER NOT NULL,
     PRIMARY KEY (schedule, slot)
   );
   CREATE TABLE report_schedules (
     schedule TEXT PRIMARY KEY,
     first_started_at INTEGER NOT NULL
   );` },
  // incidents, their member alerts and the nodes/containers they concern: src/store/incidents.ts
  { id: 'incidents/1', up: `CREATE TABLE incidents (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     scope TEXT NOT NULL CHECK (scope IN ('node','server')),
     status TEXT NOT NULL CHECK (status IN ('open','resolved','merged')),
     node_id TEXT,
     node_name TEXT,
     container TEXT,
     matched_by TEXT,
     opened_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     last_activity_at INTEGER NOT NULL,
     resolved_at INTEGER,
     merged_into INTEGER,
     reregister TEXT
   );
   CREATE INDEX incidents_status ON incidents(status, last_activity_at);
   CREATE TABLE incident_members (
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     fingerprint TEXT NOT NULL,
     kind TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('firing','resolved')),
     joined_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     node_id TEXT,
     node_name TEXT,
     container TEXT,
     PRIMARY KEY (incident_id, fingerprint)
   );
   CREATE INDEX incident_members_fp ON incident_members(fingerprint, incident_id);
   CREATE INDEX incident_members_status ON incident_members(incident_id, status);
   CREATE TABLE incident_entities (
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     type TEXT NOT NULL CHECK (type IN ('node','container')),
     value TEXT NOT NULL,
     PRIMARY KEY (incident_id, type, value)
   );
   CREATE INDEX incident_entities_value ON incident_entities(type, value, incident_id);` },
  // Re-register playbook runs and the state of each step: src/store/playbooks.ts
  { id: 'playbooks/1', up: `CREATE TABLE playbook_runs (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     playbook TEXT NOT NULL,
     incident_id INTEGER,
     approval_id INTEGER,
     container TEXT NOT NULL,
     node TEXT NOT NULL,
     requested_by TEXT NOT NULL,
     approved_by TEXT,
     state TEXT NOT NULL CHECK (state IN ('running','done','failed','interrupted')),
     steps TEXT NOT NULL,
     key_info TEXT,
     new_node_id TEXT,
     undone TEXT NOT NULL DEFAULT '[]',
     next_step TEXT,
     started_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     finished_at INTEGER
   );
   CREATE INDEX playbook_runs_state ON playbook_runs(state);
   CREATE INDEX playbook_runs_incident ON playbook_runs(incident_id, id);` },
  // PostgreSQL has no implicit rowid; three lists order ties by insertion (ORDER BY …, rowid) and get an
  // identity column of that name there. SQLite has it built in, so the step is empty there.
  {
    id: 'postgres/rowid-1',
    up: '',
    postgres: `ALTER TABLE dispatch_pending ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
      ALTER TABLE silences ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
      ALTER TABLE incident_entities ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;`,
  },
  // The leader lease of replicas sharing a PostgreSQL database: src/store/lease.ts (unused on a SQLite file).
  { id: 'lease/1', up: `CREATE TABLE leader_lease (
     name TEXT PRIMARY KEY,
     holder TEXT NOT NULL,
     epoch INTEGER NOT NULL,
     expires_at INTEGER NOT NULL,
     renewed_at INTEGER NOT NULL
   );` },
  // Which channels show an incident's message and what they last showed: src/store/incident-posts.ts
  { id: 'incidents/2', up: `CREATE TABLE incident_posts (
     incident_id INTEGER NOT NULL REFERENCES incidents(id),
     lane TEXT NOT NULL,
     posted_at INTEGER NOT NULL,
     published_at INTEGER NOT NULL,
     PRIMARY KEY (incident_id, lane)
   );
   CREATE TABLE incident_dirty (
     incident_id INTEGER PRIMARY KEY REFERENCES incidents(id),
     since INTEGER NOT NULL,
     notes TEXT NOT NULL DEFAULT '[]'
   );` },
  // what the Tailscale-style event webhooks already told: src/store/tailnet-events.ts
  { id: 'tailnet_events/1', up: `CREATE TABLE tailnet_events_state (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     state TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   );` },
  // Edit pacing reads a message's last edit and a channel's recent edits from the outbox: src/dispatch/edit-pacing.ts
  { id: 'outbox/3', up: `CREATE INDEX outbox_message_edits ON outbox(lane, ref_key, op, created_at);
   CREATE INDEX outbox_recent_edits ON outbox(op, created_at);` },
  // How far each watched container's log was read, and under which lease epoch: src/store/log-cursors.ts.
  // log_ns is nanoseconds since the epoch as 19 digits (TEXT: beyond a JavaScript number's exact range).
  { id: 'log_cursors/1', up: `CREATE TABLE log_cursors (
     host TEXT NOT NULL,
     container TEXT NOT NULL,
     container_id TEXT NOT NULL,
     log_ns TEXT NOT NULL,
     seen_at_ns INTEGER NOT NULL,
     epoch INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (host, container)
   );` },
  // Every card of an approval request (where it was asked, and each platform's alert channel) and which version
  // of the request each one shows: src/store/approvals.ts. The one card of earlier releases is carried over.
  { id: 'approvals/2', up: `CREATE TABLE approval_cards (
     approval_id INTEGER NOT NULL REFERENCES approvals(id),
     platform TEXT NOT NULL,
     channel_id TEXT NOT NULL,
     message_id TEXT,
     thread_id TEXT,
     drawn_version INTEGER NOT NULL DEFAULT 0,
     posted_at INTEGER NOT NULL,
     PRIMARY KEY (approval_id, platform, channel_id)
   );
   ALTER TABLE approvals ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
   INSERT INTO approval_cards (approval_id, platform, channel_id, message_id, thread_id, drawn_version, posted_at)
     SELECT id, requester_platform, card_channel, card_message, card_thread, 0, created_at FROM approvals
     WHERE card_channel IS NOT NULL AND card_message IS NOT NULL;` },
];

/**
 * Applies what `db` has not applied yet; returns the ids applied now. A database from before the single list
 * (schema_versions: module → version) is first translated: version n of module m means `m/1` … `m/n` ran.
 */
export function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS, now = Date.now(), dialect: Dialect = 'sqlite'): string[] {
  const run = db.transaction((): string[] => {
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (id TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`);
    const record = db.prepare(`INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?) ON CONFLICT DO NOTHING`);
    if (dialect === 'sqlite' && db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_versions'`).get()) {
      for (const r of db.prepare(`SELECT module, version FROM schema_versions`).all() as { module: string; version: number }[]) {
        for (let v = 1; v <= r.version; v++) record.run(`${r.module}/${v}`, now);
      }
      db.exec(`DROP TABLE schema_versions`);
    }
    const done = new Set((db.prepare(`SELECT id FROM schema_migrations`).all() as { id: string }[]).map((r) => r.id));
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      const up = dialect === 'postgres' ? (m.postgres ?? (typeof m.up === 'string' ? postgresDdl(m.up) : m.up)) : m.up;
      if (typeof up === 'string') {
        if (up.trim()) db.exec(up);
      } else up(db);
      record.run(m.id, now);
      applied.push(m.id);
    }
    return applied;
  });
  // IMMEDIATE: a second process opening the same file waits instead of applying the same steps twice (on
  // PostgreSQL every transaction takes the store's write lock, so a second replica waits the same way).
  return run.immediate();
}

/**
 * SQLite DDL as PostgreSQL takes it: INTEGER holds milliseconds since the epoch (BIGINT), REAL is a double, an
 * AUTOINCREMENT key is an identity column. Only the migrations' CREATE/ALTER texts go through here.
 */
export function postgresDdl(sql: string): string {
  return sql
    .replace(/\bINTEGER PRIMARY KEY AUTOINCREMENT\b/g, 'BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY')
    .replace(/\bINTEGER\b/g, 'BIGINT')
    .replace(/\bREAL\b/g, 'DOUBLE PRECISION');
}
