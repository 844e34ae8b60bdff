/**
 * The part of a SQL connection the repositories use: better-sqlite3's synchronous shape (prepare → run/get/all,
 * exec, transaction). better-sqlite3's Database satisfies it as it is; src/store/postgres.ts gives PostgreSQL the
 * same shape. Repositories are written in the SQL both engines accept (ON CONFLICT … DO NOTHING rather than
 * INSERT OR IGNORE, RETURNING id rather than lastInsertRowid, no json_each), so one text serves both.
 */
export interface SqlRunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export interface SqlStatement {
  run(...params: unknown[]): SqlRunResult;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
}

/** A transaction wraps a function of no arguments; calling it runs the function inside BEGIN … COMMIT. */
export interface SqlTransaction<T> {
  (): T;
  deferred(): T;
  immediate(): T;
  exclusive(): T;
}

export interface SqlDb {
  prepare(sql: string): SqlStatement;
  exec(sql: string): unknown;
  transaction<T>(fn: () => T): SqlTransaction<T>;
  /** SQLite pragmas; PostgreSQL has no such thing and answers [] (WAL checkpoints mean nothing there). */
  pragma(source: string): unknown;
  readonly open: boolean;
  close(): unknown;
}

export type Dialect = 'sqlite' | 'postgres';

/** True for a HEADWATCH_DATABASE_URL-style PostgreSQL address. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** The address with its password replaced, for logs, errors and /readyz. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key/i.test(k)) u.searchParams.set(k, '***');
    return u.toString();
  } catch {
    return 'postgres://(unparseable address)';
  }
}
