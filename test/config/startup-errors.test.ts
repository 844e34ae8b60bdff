import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The real process entry (src/main.ts, as `npm start` runs it) with settings an operator gets wrong: every
 * configuration problem names its variable, prints the "fix these settings" block once, and exits 2 before
 * anything is watched. A clean environment (no inherited DOCKER_HOST, no .env) so only the case's settings count.
 */
/** Starting TypeScript through tsx took over 40 s on a shared 2-core machine under load; a hung start still ends. */
const SPAWN_LIMIT_MS = 150_000;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const work = mkdtempSync(join(tmpdir(), 'hw-start-err-'));

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

function runMain(env: Record<string, string>, opts: { uid?: number; gid?: number } = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work,
        // A socket nobody listens on: the cases must fail on their setting, never on reaching Docker.
        DOCKER_HOST: `unix://${join(work, 'no-docker.sock')}`,
        HEADWATCH_HTTP_HOST: '127.0.0.1',
        HEADWATCH_HTTP_PORT: '0',
        HEADWATCH_DB: join(mkdtempSync(join(work, 'db-')), 'hw.db'),
        LOG_LEVEL: 'error',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...opts,
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), SPAWN_LIMIT_MS);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(killer);
      done({ code, stderr, stdout });
    });
  });
}

function expectConfigExit(r: Run, ...mustContain: (string | RegExp)[]): void {
  expect(r.code, `exit code; stderr was:\n${r.stderr}`).toBe(2);
  expect(r.stderr.match(/headwatch cannot start, fix these settings:/g)).toHaveLength(1);
  expect(r.stderr).not.toContain('headwatch failed to start');
  for (const m of mustContain) expect(r.stderr).toMatch(m);
}

let blocker: Server | undefined;
afterAll(() => blocker?.close());

// Concurrent: each case is a separate process that mostly waits for TypeScript to load.
describe.concurrent('npm start refuses unusable settings with exit 2, naming the variable', { timeout: SPAWN_LIMIT_MS + 10_000 }, () => {
  it('port in use names HEADWATCH_HTTP_PORT and the port', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker!.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    const r = await runMain({ HEADWATCH_HTTP_PORT: String(port) });
    expectConfigExit(r, /HEADWATCH_HTTP_PORT: port \d+ on 127\.0\.0\.1 is already in use/, String(port));
    expect(r.stderr).not.toContain('EADDRINUSE');
  });

  it('an unreachable PostgreSQL names HEADWATCH_DATABASE_URL, hides its password, and says what to check', async () => {
    const r = await runMain({ HEADWATCH_DATABASE_URL: `postgres://headwatch:s3cret-pw@localhost/headwatch?host=${join(work, 'no-postgres')}` });
    expectConfigExit(r, /HEADWATCH_DATABASE_URL: cannot connect to PostgreSQL at postgres:\/\/headwatch:\*\*\*@localhost\/headwatch/, /Check HEADWATCH_DATABASE_URL/);
    expect(r.stderr + r.stdout).not.toContain('s3cret-pw');
  });

  it('a PostgreSQL address that is not one names HEADWATCH_DATABASE_URL', async () => {
    const r = await runMain({ HEADWATCH_DATABASE_URL: 'mysql://db/headwatch' });
    expectConfigExit(r, /HEADWATCH_DATABASE_URL/, /must be a PostgreSQL address/);
  });

  it('a database directory two levels missing names HEADWATCH_DB and the path, and creates nothing', async () => {
    const missing = join(work, 'nope', 'deeper');
    const r = await runMain({ HEADWATCH_DB: join(missing, 'hw.db') });
    expectConfigExit(r, 'HEADWATCH_DB', missing, /does not exist/);
    expect(existsSync(join(work, 'nope'))).toBe(false);
  });

  it('a database directory this user cannot write names HEADWATCH_DB and the path', async () => {
    const dir = mkdtempSync(join(work, 'ro-'));
    const asRoot = process.getuid?.() === 0;
    // root passes every permission check, so as root the entry runs as "nobody" against a root-owned directory.
    if (asRoot) {
      chmodSync(work, 0o755);
      chmodSync(dir, 0o755);
    } else chmodSync(dir, 0o555);
    const home = mkdtempSync(join(work, 'home-'));
    if (asRoot) chownSync(home, 65534, 65534);
    const r = await runMain({ HEADWATCH_DB: join(dir, 'hw.db'), HOME: home }, asRoot ? { uid: 65534, gid: 65534 } : {});
    expectConfigExit(r, 'HEADWATCH_DB', dir, /not writable/);
  });

  it('a malformed HEADWATCH_ROUTES exits 2 with one prefix, not 1 with a doubled one', async () => {
    const r = await runMain({ HEADWATCH_ROUTES: 'severity=critical slack' });
    expectConfigExit(r, /HEADWATCH_ROUTES: rule 1 \("severity=critical slack"\) has no "->"/);
  });

  it('a duration without a unit says so and how to write it', async () => {
    const r = await runMain({ HEADWATCH_GROUP_WAIT: '30' });
    expectConfigExit(r, /HEADWATCH_GROUP_WAIT: needs a unit: write 30s for seconds or 30m for minutes/);
  });

  it('contradictory settings: Slack HTTP mode without a signing secret, more approvals than approvers, a route to an unconfigured platform', async () => {
    const r = await runMain({
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_CHANNEL: 'C0ALERTS',
      HEADWATCH_OPERATORS: 'slack:U1',
      HEADWATCH_APPROVERS: 'slack:U2',
      HEADWATCH_APPROVALS_REQUIRED: '2',
      HEADWATCH_ROUTES: '*->slack,discord',
    });
    expectConfigExit(
      r,
      /SLACK_SIGNING_SECRET: Slack HTTP mode .* needs the signing secret/,
      /HEADWATCH_APPROVALS_REQUIRED=2 but only 1 person can approve/,
      /HEADWATCH_ROUTES: rule 1 .* sends to "discord", which is not configured .*turned on by DISCORD_TOKEN/,
    );
    expect(r.stderr).not.toContain('xoxb-test');
  });
});

describe('the database directory', () => {
  it('is created when only it is missing (the default ./data), never its parents', async () => {
    const { Store } = await import('../../src/store/db.js');
    const parent = mkdtempSync(join(work, 'p-'));
    const s = new Store(join(parent, 'data', 'hw.db'));
    s.close();
    expect(existsSync(join(parent, 'data', 'hw.db'))).toBe(true);
    mkdirSync(join(parent, 'file-not-dir'));
    expect(() => new Store(join(parent, 'a', 'b', 'hw.db'))).toThrow(/does not exist, nor does/);
    expect(existsSync(join(parent, 'a'))).toBe(false);
  });
});
