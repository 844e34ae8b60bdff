import { mkdirSync, accessSync, constants } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';

export type Db = Database.Database;

/**
 * The one SQLite file headwatch keeps (alerts, detector state, dispatch memory, outbox, silences, approvals,
 * audit). Opening it applies the one migration list (src/store/migrations.ts); the repositories beside this file
 * each own the statements of one concern and nothing else touches SQL.
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
    migrate(this.db);
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): decisions and their outbox rows commit together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
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
