import pg from 'pg';

/**
 * A new, empty database on a PostgreSQL server, named `<prefix>_<pid>_<random>`; returns its address. Kept apart
 * from postgres.ts (which checks the test settings when imported) so that the bench can use it too.
 */
export async function createDatabase(server: string, prefix: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(server);
  u.pathname = `/${name}`;
  return u.toString();
}
