import { mkdirSync, accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import { PostgresDb } from './postgres.js';
import { isPostgresUrl, redactUrl, type Dialect, type SqlDb } from './sql.js';

export type Db = SqlDb;

/** The SQLite file cannot be opened or created; the message says why in operator words and what to do. */
export class StorePathError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
    this.name = 'StorePathError';
  }
}

/** PostgreSQL cannot be reached or refused us; the message names the (redacted) address and what to do. */
export class StoreConnectError extends Error {
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(message);
    this.name = 'StoreConnectError';
  }
}

/**
 * The one database headwatch keeps (alerts, detector state, dispatch memory, outbox, silences, approvals,
 * audit): a SQLite file (the embedded default) or, given a postgres:// address, a PostgreSQL database that
 * several replicas share. Opening it applies the one migration list (src/store/migrations.ts); the repositories
 * beside this file each own the statements of one concern and nothing else touches SQL.
 */
export class Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /** For logs and /readyz: the file, or the address without its password. */
  readonly where: string;
  /**
   * Set by the leader election (replicas on PostgreSQL): outbox claims then succeed only while this holder
   * still holds this epoch's lease, checked in the claim's own statement (src/store/lease.ts LEASE_FENCE_SQL).
   */
  fence: { holder: string; epoch: number } | undefined;

  /** `target`: a SQLite path (or ':memory:') or a postgres:// address. */
  constructor(readonly path: string) {
    if (isPostgresUrl(path)) {
      this.dialect = 'postgres';
      this.where = redactUrl(path);
      try {
        this.db = new PostgresDb(path);
      } catch (err) {
        throw new StoreConnectError(this.where, `cannot connect to PostgreSQL at ${this.where}: ${(err as Error).message}. Check HEADWATCH_DATABASE_URL (host, port, user, password, database) and that the server accepts this host`);
      }
      migrate(this.db, undefined, undefined, 'postgres');
      return;
    }
    this.dialect = 'sqlite';
    this.where = path === ':memory:' ? path : resolve(path);
    if (path !== ':memory:') preparePath(path);
    let db: Database.Database;
    try {
      db = new Database(path);
      db.pragma('journal_mode = WAL');
    } catch (err) {
      throw new StorePathError(path, `cannot open the SQLite file ${resolve(path)}: ${(err as Error).message}`);
    }
    // FULL: an alert or audit row acknowledged to the caller survives a power cut, not only a crash.
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    this.db = db;
    migrate(this.db);
  }

  /** PostgreSQL: a check run before every statement that may refuse it (see PostgresDb.guard). */
  setGuard(guard: (() => void) | undefined): void {
    if (this.db instanceof PostgresDb) this.db.guard = guard;
  }

  /** Runs `fn` in one transaction (nested calls become savepoints): decisions and their outbox rows commit together. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** For /readyz: can we still write? (disk full, file removed read-only, ...) */
  checkWritable(): { ok: true } | { ok: false; reason: string } {
    try {
      if (this.dialect === 'postgres') {
        this.db.prepare('SELECT 1').get();
        return { ok: true };
      }
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

/**
 * Checks that the database file can be created or written, creating at most its own directory (the default
 * ./data): a typo in the path must not leave directories scattered over the filesystem. Access checks run
 * before SQLite so the error names the path and the permission, not "unable to open database file".
 */
function preparePath(path: string): void {
  const file = resolve(path);
  const dir = dirname(file);
  if (!existsSync(dir)) {
    const parent = dirname(dir);
    if (!existsSync(parent)) {
      throw new StorePathError(path, `the directory ${dir} does not exist, nor does ${parent}; headwatch creates only the file's own directory. Create it (mkdir -p ${dir}) or choose another path`);
    }
    try {
      mkdirSync(dir);
    } catch (err) {
      throw new StorePathError(path, `cannot create the directory ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); create it with write access for this user, or choose another path`);
    }
  }
  if (!statSync(dir).isDirectory()) throw new StorePathError(path, `${dir} is not a directory`);
  const uid = process.getuid?.() ?? -1;
  try {
    // SQLite writes a -wal and -shm file beside the database, so the directory must be writable too.
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw new StorePathError(path, `the directory ${dir} is not writable by this user (uid ${uid}); SQLite needs to create files there. Fix its permissions or choose another path`);
  }
  if (existsSync(file)) {
    if (statSync(file).isDirectory()) throw new StorePathError(path, `${file} is a directory; point it at a file inside, e.g. ${file}/headwatch.db`);
    try {
      accessSync(file, constants.R_OK | constants.W_OK);
    } catch {
      throw new StorePathError(path, `the file ${file} is not writable by this user (uid ${uid}); fix its owner or permissions`);
    }
  }
}
