import { mkdirSync, accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/**
 * The one SQLite file headwatch keeps (alerts, detector state, outbox, silences, approvals, audit).
 * Each module owns its tables and registers its own ordered migrations with {@link Store.migrate}, so adding
 * a table never means editing a central list.
 */
export class Store {
  readonly db: Db;

  constructor(readonly path: string) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: an alert or audit row acknowledged to the caller survives a power cut, not only a crash.
    this.db.pragma('synchronous = FULL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_versions (module TEXT PRIMARY KEY, version INTEGER NOT NULL)`);
  }

  /** Applies the migrations of `module` that have not run yet, each in its own transaction. */
  migrate(module: string, migrations: readonly string[]): void {
    const row = this.db.prepare('SELECT version FROM schema_versions WHERE module = ?').get(module) as
      | { version: number }
      | undefined;
    const current = row?.version ?? 0;
    for (let v = current; v < migrations.length; v++) {
      this.db.transaction(() => {
        this.db.exec(migrations[v]!);
        this.db
          .prepare(
            'INSERT INTO schema_versions (module, version) VALUES (?, ?) ON CONFLICT(module) DO UPDATE SET version = excluded.version',
          )
          .run(module, v + 1);
      })();
    }
  }

  /** For /readyz: can we still write? (disk full, file removed read-only, ...) */
  checkWritable(): { ok: true } | { ok: false; reason: string } {
    try {
      if (this.path !== ':memory:') accessSync(this.path, constants.W_OK);
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK;');
      return { ok: true };
    } catch (err) {
      return { ok: false, reason: (err as Error).message };
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
