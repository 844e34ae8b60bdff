import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../src/store/db.js';
import { PostgresDb } from '../../src/store/postgres.js';
import { createDatabase } from './pg-database.js';

/**
 * PostgreSQL-backed suites run against a real server: HEADWATCH_TEST_DATABASE_URL (`.ci/postgres.sh start DIR`
 * prints it) names a role that may create databases; each caller gets a database of its own. Locally they skip
 * with a message when it is unset; in CI HEADWATCH_REQUIRE_POSTGRES=1 turns that into a failure instead.
 */
export const POSTGRES_URL = process.env.HEADWATCH_TEST_DATABASE_URL;

if (!POSTGRES_URL && process.env.HEADWATCH_REQUIRE_POSTGRES === '1') {
  throw new Error('HEADWATCH_REQUIRE_POSTGRES=1 but HEADWATCH_TEST_DATABASE_URL is not set; start a server with .ci/postgres.sh start DIR');
}
if (!POSTGRES_URL) console.warn('[skip] HEADWATCH_TEST_DATABASE_URL not set: PostgreSQL backend tests skipped');

/** A new, empty database on the test server; returns its address. */
export async function freshDatabase(prefix = 'hw'): Promise<string> {
  if (!POSTGRES_URL) throw new Error('HEADWATCH_TEST_DATABASE_URL is not set');
  return createDatabase(POSTGRES_URL, prefix);
}

export interface Backend {
  name: 'sqlite' | 'postgres';
  /** A new empty store of this backend; `close()` it (and `cleanup()` at the end). */
  open(): Promise<{ store: Store; target: string; cleanup: () => void }>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    async open() {
      const dir = mkdtempSync(join(tmpdir(), 'hw-store-'));
      const target = join(dir, 'h.db');
      return { store: new Store(target), target, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  },
  ...(POSTGRES_URL
    ? [
        {
          name: 'postgres' as const,
          async open() {
            const target = await freshDatabase();
            return { store: new Store(target), target, cleanup: () => {} };
          },
        },
      ]
    : []),
];

/**
 * Where a harness keeps its store: the SQLite file it names, or — with HEADWATCH_TEST_STORE=postgres (CI runs the
 * dispatch, incident and interaction suites once more that way) — a new PostgreSQL database. Synchronous, as the
 * harnesses are; call it once per store and reopen the same target after a simulated restart.
 */
export function storeTarget(sqlitePath: string): string {
  if (process.env.HEADWATCH_TEST_STORE !== 'postgres') return sqlitePath;
  if (!POSTGRES_URL) throw new Error('HEADWATCH_TEST_STORE=postgres needs HEADWATCH_TEST_DATABASE_URL (.ci/postgres.sh start DIR)');
  const name = `hw_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new PostgresDb(POSTGRES_URL, 'headwatch-tests');
  try {
    admin.exec(`CREATE DATABASE ${name}`);
  } finally {
    admin.close();
  }
  const u = new URL(POSTGRES_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
