import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Starts headwatch as `npm start` would (a separate process), times it to a 200 from /readyz, then reads its idle RSS. */
export async function benchStartup(opts: { idleSeconds?: number } = {}): Promise<{ startToReadyMs: number; idleRssMb: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-start-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, HEADWATCH_DB: join(dir, 'hw.db'), HEADWATCH_HTTP_PORT: String(port), HEADWATCH_HTTP_HOST: '127.0.0.1', LOG_LEVEL: 'error' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let readyAt = NaN;
  try {
    while (performance.now() - t0 < 30_000) {
      try {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (r.status === 200) {
          readyAt = performance.now();
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, (opts.idleSeconds ?? 10) * 1000));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    return { startToReadyMs: Math.round(readyAt - t0), idleRssMb: Math.round(rssKb / 102.4) / 10 };
  } finally {
    child.kill('SIGTERM');
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchStartup().then((r) => console.log(JSON.stringify(r)));
}
