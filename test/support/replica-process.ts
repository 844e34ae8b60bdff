import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { freePort, until } from './wait.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** One headwatch process started as `npm start` runs it (`node --import tsx src/main.ts`), with its HTTP port. */
export interface ReplicaProcess {
  child: ChildProcess;
  base: string;
  stderr: string[];
  exited: Promise<number | null>;
}

/**
 * Starts headwatch as its own process with exactly `env` (plus PATH and a free HTTP port on 127.0.0.1) and waits
 * until /healthz answers. Used by the replica tests and the takeover bench, which kill such processes.
 */
export async function startReplicaProcess(env: Record<string, string>, startTimeoutMs = 90_000): Promise<ReplicaProcess> {
  const port = await freePort();
  const stderr: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HEADWATCH_HTTP_HOST: '127.0.0.1', HEADWATCH_HTTP_PORT: String(port), ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const r: ReplicaProcess = { child, base: `http://127.0.0.1:${port}`, stderr, exited };
  await until(
    'a replica to answer /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`replica exited (${child.exitCode}): ${stderr.join('')}`);
      return (await fetch(`${r.base}/healthz`).catch(() => undefined))?.ok;
    },
    startTimeoutMs,
    50,
  );
  return r;
}

/** The role /readyz reports (`leader` / `standby`), or undefined when it does not answer. */
export async function replicaRole(r: ReplicaProcess): Promise<string | undefined> {
  try {
    const res = await fetch(`${r.base}/readyz`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { role?: string }).role;
  } catch {
    return undefined;
  }
}

export function alive(r: ReplicaProcess): boolean {
  return r.child.exitCode === null && r.child.signalCode === null;
}
