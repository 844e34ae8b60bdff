/**
 * Plain JavaScript (no build step, no TypeScript loader in the worker): runs in a worker thread (started by src/store/postgres.ts through synckit): owns the one PostgreSQL connection
 * (the `pg` client) and answers one request at a time while the main thread waits. One connection, used in
 * order, is what keeps a transaction's statements together: the main thread cannot interleave anything else.
 */
import { runAsWorker } from 'synckit';
import pg from 'pg';

// Milliseconds since the epoch are BIGINT columns; COUNT(*) is BIGINT and SUM(BIGINT) NUMERIC. They are numbers
// in this program (well inside 2^53), as better-sqlite3 returns them.
pg.types.setTypeParser(20, (v) => Number(v));
pg.types.setTypeParser(1700, (v) => Number(v));

// Requests and answers: see WorkerRequest / WorkerResponse in postgres.ts.

let url = '';
let applicationName = 'headwatch';
/** @type {pg.Client | undefined} */
let client;
/** The connection a transaction began on: a statement of that transaction must never run on a newer one. */
/** @type {pg.Client | undefined} */
let txClient;

async function connection() {
  if (client) return client;
  const c = new pg.Client({
    connectionString: url,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    query_timeout: 20_000,
    keepAlive: true,
  });
  c.on('error', () => {
    // The server went away (restart, network): the next request opens a new connection.
    if (client === c) client = undefined;
  });
  await c.connect();
  // A process paused inside a transaction (SIGSTOP, a debugger) must not hold the write lock for ever:
  // the server ends such a session after 5 s, so the other replicas go on.
  await c.query(`SET statement_timeout = '15s'; SET lock_timeout = '10s'; SET idle_in_transaction_session_timeout = '5s'`);
  client = c;
  return c;
}

function drop(c) {
  if (client === c) client = undefined;
  c.end().catch(() => {});
}

function isConnectionError(err) {
  const e = err ?? {};
  if (typeof e.code === 'string' && /^(08|57P)/.test(e.code)) return true;
  return /Connection terminated|ECONNRESET|ECONNREFUSED|EPIPE|timeout|not queryable|ENOTFOUND/i.test(e.message ?? '');
}

async function onConnection(inTx, fn) {
  if (inTx && (!txClient || client !== txClient)) {
    throw Object.assign(new Error('the PostgreSQL connection was lost during a transaction; nothing of that transaction was kept'), { code: '08006' });
  }
  const c = await connection();
  try {
    return await fn(c);
  } catch (err) {
    if (isConnectionError(err)) drop(c);
    throw err;
  }
}

function plain(err) {
  const e = err ?? {};
  return Object.assign(new Error(e.message ?? String(err)), { code: e.code, detail: e.detail });
}

runAsWorker(async (req) => {
  try {
    switch (req.op) {
      case 'connect':
        url = req.url;
        applicationName = req.applicationName;
        await connection();
        return { rows: [], rowCount: 0 };
      case 'query': {
        const r = await onConnection(req.inTx, (c) => c.query({ text: req.sql, values: req.params }));
        return { rows: r.rows, rowCount: r.rowCount ?? 0 };
      }
      case 'exec':
        await onConnection(req.inTx, (c) => c.query(req.sql));
        return { rows: [], rowCount: 0 };
      case 'begin': {
        txClient = undefined;
        const c = await connection();
        try {
          await c.query(req.sql);
        } catch (err) {
          if (isConnectionError(err)) drop(c);
          throw err;
        }
        txClient = c;
        return { rows: [], rowCount: 0 };
      }
      case 'end': {
        const c = txClient;
        txClient = undefined;
        if (!c || c !== client) throw Object.assign(new Error('the PostgreSQL connection was lost during a transaction; nothing of that transaction was kept'), { code: '08006' });
        try {
          await c.query(req.sql);
        } catch (err) {
          if (isConnectionError(err)) drop(c);
          throw err;
        }
        return { rows: [], rowCount: 0 };
      }
      case 'close':
        if (client) await client.end().catch(() => {});
        client = undefined;
        return { rows: [], rowCount: 0 };
    }
  } catch (err) {
    throw plain(err);
  }
});
