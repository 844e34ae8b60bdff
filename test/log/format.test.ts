import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/** Logs as an operator reads them from the real entry point: JSON for collectors, LOG_FORMAT=pretty for a terminal. */
/** Starting TypeScript through tsx took over 40 s on a shared 2-core machine under load; a hung start still ends. */
const SPAWN_LIMIT_MS = 150_000;
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Starts src/main.ts, returns its stderr once it logged "headwatch started", then stops it. */
function startedLogs(env: Record<string, string>): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-logfmt-'));
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}`,
        HEADWATCH_DB: join(dir, 'hw.db'),
        HEADWATCH_HTTP_HOST: '127.0.0.1',
        HEADWATCH_HTTP_PORT: '0',
        ...env,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), SPAWN_LIMIT_MS);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('headwatch started')) child.kill('SIGTERM');
    });
    child.on('error', fail);
    child.on('close', () => {
      clearTimeout(killer);
      done(stderr);
    });
  });
}

describe.concurrent('log format', { timeout: SPAWN_LIMIT_MS + 10_000 }, () => {
  it('defaults to one JSON object a line with an ISO 8601 time', async () => {
    const out = await startedLogs({});
    const started = out.split('\n').find((l) => l.includes('headwatch started'))!;
    const obj = JSON.parse(started) as { time: string; level: number; msg: string };
    expect(obj.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(obj.msg).toBe('headwatch started');
  });

  it('LOG_FORMAT=pretty prints readable lines: local time, level name, message', async () => {
    const out = await startedLogs({ LOG_FORMAT: 'pretty' });
    const lines = out.split('\n').filter(Boolean);
    expect(lines.some((l) => l.startsWith('{'))).toBe(false);
    expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] WARN: Docker engine unreachable: .*no-docker\.sock/m);
    expect(out).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: headwatch started /m);
  });
});
