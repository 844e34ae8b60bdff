import { createSyncFn } from 'synckit';
import { fileURLToPath } from 'node:url';
import type { SqlDb, SqlRunResult, SqlStatement, SqlTransaction } from './sql.js';

/** What postgres-worker.mjs is asked and answers. */
type WorkerRequest =
  | { op: 'connect'; url: string; applicationName: string }
  | { op: 'query'; sql: string; params: unknown[]; inTx: boolean }
  | { op: 'exec'; sql: string; inTx: boolean }
  | { op: 'begin'; sql: string }
  | { op: 'end'; sql: string }
  | { op: 'close' };

type WorkerResponse = { rows: Record<string, unknown>[]; rowCount: number };

/**
 * PostgreSQL behind the same synchronous shape as better-sqlite3 (src/store/sql.ts).
 *
 * Why synchronous: every repository, the dispatcher's decide-and-enqueue transactions and the approval claims are
 * written against better-sqlite3's synchronous API, and their correctness leans on it (a transaction is a plain
 * function call; nothing else runs in between). Making the repositories async would ripple through dispatch,
 * interaction, incidents and reports — code other people are reshaping at the same time — and would open every
 * transaction to interleaving. Instead the `pg` client runs in a worker thread and the main thread waits for
 * each answer (synckit: Atomics.wait on a shared buffer + a message port). A statement costs one loopback round
 * trip plus ~0.1 ms of thread hand-off; the leader is the only replica that writes, so the wait is its own.
 *
 * Transactions take one advisory lock (pg_advisory_xact_lock) for their duration: SQLite lets one writer in at a
 * time and several repositories (the audit chain's "last row", approval claims) rely on exactly that, so
 * PostgreSQL is given the same rule. The worker's session ends a transaction left idle for 5 s (a paused
 * process), which releases the lock for the others.
 */
export class PostgresDb implements SqlDb {
  private readonly call: (req: WorkerRequest) => WorkerResponse;
  private depth = 0;
  private savepoint = 0;
  open = true;
  /**
   * Called before every statement; throws to refuse it. The leader election sets it so that a leader whose lease
   * may have run out (it was paused, say) writes nothing more — not only no sends (the outbox fence), no state.
   */
  guard: (() => void) | undefined;

  constructor(url: string, applicationName = 'headwatch') {
    this.call = createSyncFn(workerPath(), workerOptions()) as (req: WorkerRequest) => WorkerResponse;
    this.call({ op: 'connect', url, applicationName });
  }

  prepare(sql: string): SqlStatement {
    return new PostgresStatement(this, sql);
  }

  exec(sql: string): this {
    this.ensureOpen();
    this.call({ op: 'exec', sql, inTx: this.depth > 0 });
    return this;
  }

  /** @internal one statement with `$n` parameters. */
  query(sql: string, params: unknown[]): WorkerResponse {
    this.ensureOpen();
    return this.call({ op: 'query', sql, params, inTx: this.depth > 0 });
  }

  transaction<T>(fn: () => T): SqlTransaction<T> {
    const run = (): T => this.inTransaction(fn);
    return Object.assign(run, { deferred: run, immediate: run, exclusive: run });
  }

  /** As better-sqlite3: a closed connection refuses work (it must not quietly reconnect for a stopped process). */
  private ensureOpen(): void {
    if (!this.open) throw new TypeError('The database connection is not open');
    if (this.depth === 0) this.guard?.();
  }

  private inTransaction<T>(fn: () => T): T {
    this.ensureOpen();
    if (this.depth > 0) return this.nested(fn);
    this.call({ op: 'begin', sql: `BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK})` });
    this.depth = 1;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) throw new TypeError('a transaction function cannot be async');
    } catch (err) {
      this.depth = 0;
      try {
        this.call({ op: 'end', sql: 'ROLLBACK' });
      } catch {
        // The connection is gone: the server has rolled it back already.
      }
      throw err;
    }
    this.depth = 0;
    this.call({ op: 'end', sql: 'COMMIT' });
    return result;
  }

  private nested<T>(fn: () => T): T {
    const name = `sp${++this.savepoint}`;
    this.exec(`SAVEPOINT ${name}`);
    this.depth++;
    try {
      const result = fn();
      this.depth--;
      this.exec(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      this.depth--;
      try {
        this.exec(`ROLLBACK TO SAVEPOINT ${name}; RELEASE SAVEPOINT ${name}`);
      } catch {
        // the outer transaction fails as a whole anyway
      }
      throw err;
    }
  }

  pragma(): unknown[] {
    return [];
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    try {
      this.call({ op: 'close' });
    } catch {
      // already gone
    }
  }
}

/** Any constant; one lock for every headwatch transaction on this database (see the class comment). */
const WRITE_LOCK = 0x6877_0001;

class PostgresStatement implements SqlStatement {
  private readonly text: string;
  private readonly names: (string | number)[];

  constructor(
    private readonly db: PostgresDb,
    sql: string,
  ) {
    const t = toPostgresParameters(sql);
    this.text = t.text;
    this.names = t.names;
  }

  private values(params: unknown[]): unknown[] {
    const named = params.length === 1 && params[0] !== null && typeof params[0] === 'object' && !Array.isArray(params[0]) && !(params[0] instanceof Buffer);
    return this.names.map((n) => {
      if (typeof n === 'number') {
        if (n >= params.length) throw new RangeError(`too few parameter values for: ${this.text.slice(0, 80)}`);
        return bindable(params[n]);
      }
      if (!named || !(n in (params[0] as object))) throw new RangeError(`missing named parameter "${n}"`);
      return bindable((params[0] as Record<string, unknown>)[n]);
    });
  }

  run(...params: unknown[]): SqlRunResult {
    const r = this.db.query(this.text, this.values(params));
    return { changes: r.rowCount, lastInsertRowid: 0 };
  }

  get(...params: unknown[]): unknown {
    return this.db.query(this.text, this.values(params)).rows[0];
  }

  all(...params: unknown[]): unknown[] {
    return this.db.query(this.text, this.values(params)).rows;
  }

  iterate(...params: unknown[]): IterableIterator<unknown> {
    return this.all(...params)[Symbol.iterator]();
  }
}

function bindable(v: unknown): unknown {
  if (v === undefined) throw new RangeError('a parameter value is undefined (use null)');
  if (typeof v === 'boolean') throw new TypeError('booleans are not bound; store 1 or 0 (as SQLite does)');
  return v;
}

/**
 * Rewrites better-sqlite3 parameters (`?` positional, `@name` named) into PostgreSQL's `$n`, leaving string
 * literals, quoted identifiers, comments and `::` casts alone. Returns, per `$n`, the positional index or name.
 */
export function toPostgresParameters(sql: string): { text: string; names: (string | number)[] } {
  const names: (string | number)[] = [];
  const byName = new Map<string, number>();
  let out = '';
  let positional = 0;
  for (let i = 0; i < sql.length; i++) {
    const ch = sql[i]!;
    if (ch === "'" || ch === '"') {
      const end = sql.indexOf(ch, i + 1);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop + 1);
      i = stop;
    } else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (ch === '?') {
      names.push(positional++);
      out += `$${names.length}`;
    } else if (ch === '@' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))!;
      let n = byName.get(m[0]);
      if (n === undefined) {
        names.push(m[0]);
        n = names.length;
        byName.set(m[0], n);
      }
      out += `$${n}`;
      i += m[0].length;
    } else {
      out += ch;
    }
  }
  return { text: out, names };
}

/**
 * The worker is plain JavaScript (postgres-worker.mjs, copied to dist by the build's allowJs): a TypeScript
 * worker would need a loader inside the worker thread, which Node 20 does not pass on to workers reliably.
 */
function workerPath(): string {
  return fileURLToPath(new URL('./postgres-worker.mjs', import.meta.url));
}

// A last resort above the worker's own limits (connect 5 s, statement 15 s, query 20 s): a hung worker must
// surface as an error here, never as a thread blocked for ever. No execArgv: a test runner's loaders are not
// needed in the worker.
function workerOptions(): { timeout: number; execArgv: string[] } {
  return { timeout: 30_000, execArgv: [] };
}
