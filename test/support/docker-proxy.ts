import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { describe } from 'vitest';
import { TEST_ENGINE } from './docker.js';

/**
 * A private instance of headwatch's Docker socket proxy (Debian's HAProxy with deploy/docker-proxy/haproxy.cfg, the
 * file docker-compose.example.yml uses) in front of the raw test engine, with the settings a test chooses.
 */
export const PROXY_RULES = 'deploy/docker-proxy/haproxy.cfg';

const haproxy = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();
const socket = TEST_ENGINE?.startsWith('unix://') ? TEST_ENGINE.slice('unix://'.length) : undefined;
if ((!haproxy || !socket) && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error(
    `HEADWATCH_REQUIRE_DOCKER=1 but the socket proxy tests cannot run: ${!haproxy ? 'haproxy is not installed (Debian package haproxy)' : `the raw engine must be a unix socket (HEADWATCH_TEST_ENGINE or DOCKER_HOST = ${TEST_ENGINE ?? 'unset'})`}`,
  );
}
if (!haproxy || !socket) console.warn('[skip] socket proxy tests need haproxy and a unix-socket engine (HEADWATCH_TEST_ENGINE or DOCKER_HOST)');
export const describeProxy = haproxy && socket ? describe : describe.skip;

export interface DockerProxy {
  /** `tcp://127.0.0.1:<port>`, for DOCKER_HOST / dockerHost. */
  host: string;
  /** `http://127.0.0.1:<port>`, for raw requests. */
  url: string;
  log(): string;
  stop(): Promise<void>;
}

export async function startDockerProxy(settings: { ALLOW_RESTART?: string; ALLOW_EXEC?: string; EXEC_CONTAINERS?: string } = {}): Promise<DockerProxy> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 30000);
    let log = '';
    const child: ChildProcess = spawn(haproxy, ['-f', PROXY_RULES, '-db'], {
      env: { PATH: process.env.PATH ?? '', PROXY_LISTEN: `127.0.0.1:${port}`, DOCKER_SOCKET: socket!, ...settings },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (c: Buffer) => (log += c.toString()));
    child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && child.exitCode === null; i++) {
      try {
        if ((await fetch(`${url}/_ping`)).ok) {
          return {
            host: `tcp://127.0.0.1:${port}`,
            url,
            log: () => log,
            stop: async () => {
              if (child.exitCode !== null) return;
              const exited = new Promise((r) => child.once('exit', r));
              child.kill('SIGTERM');
              await exited;
            },
          };
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    if (!/cannot bind|Address already in use/i.test(log)) throw new Error(`the Docker socket proxy did not start: ${log}`);
  }
  throw new Error('the Docker socket proxy found no free port');
}
