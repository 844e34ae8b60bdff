import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import Docker from 'dockerode';
import { Writable } from 'node:stream';
import { Metrics } from '../../src/http/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import type { Finding } from '../../src/parsers/finding.js';
import { dockerClient } from '../../src/sources/docker/host.js';
import { DockerSource, type DockerSourceOptions, type DockerStatus } from '../../src/sources/docker/source.js';
import { DockerControl } from '../../src/actions/docker-control.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';
import { afterAll, afterEach } from 'vitest';
import { removeContainer, TEST_IMAGE, uniqueName, testDocker } from '../support/docker.js';
import { until } from '../support/wait.js';

const run = promisify(execFile);

/** `until` with the Docker suites' usual timeout. */
export function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 15_000): Promise<T> {
  return until(what, fn, timeoutMs);
}

export interface Harness {
  source: DockerSource;
  /** Restart and exec (what actions use), over the source's watched containers. */
  control: DockerControl;
  metrics: Metrics;
  lines: { name: string; id: string; line: string; at: number }[];
  skipped: { name: string; reason: string }[];
  findings: Finding[];
  statuses: DockerStatus[];
  /** pino log records written by the source. */
  logs: { level: number; msg: string; [k: string]: unknown }[];
  linesOf(name: string): string[];
}

export function makeSource(opts: Partial<DockerSourceOptions> & { headscaleContainer: string }): Harness {
  const logs: Harness['logs'] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) logs.push(JSON.parse(l) as Harness["logs"][number]);
      cb();
    },
  });
  const metrics = new Metrics({ processMetrics: false });
  const h: Omit<Harness, 'source' | 'control'> = {
    metrics,
    lines: [],
    skipped: [],
    findings: [],
    statuses: [],
    logs,
    linesOf(name) {
      return this.lines.filter((l) => l.name === name).map((l) => l.line);
    },
  };
  const source = new DockerSource({
    cpuSampleMs: 1000,
    logger: createLogger('debug', sink),
    metrics,
    onLine: (c: WatchedContainer, line, at) => h.lines.push({ name: c.name, id: c.id, line, at }),
    onSkipped: (c, reason) => h.skipped.push({ name: c.name, reason }),
    onFinding: (f) => h.findings.push(f),
    onStatus: (s) => h.statuses.push(s),
    ...opts,
  });
  return { ...h, source, control: new DockerControl({ ...(opts.dockerHost ? { dockerHost: opts.dockerHost } : {}), containers: source }) };
}

export interface RunOpts {
  name: string;
  cmd: string[];
  tty?: boolean;
  nanoCpus?: number;
  restartAlways?: boolean;
  image?: string;
}

export async function runContainer(docker: Docker, o: RunOpts): Promise<Docker.Container> {
  const c = await docker.createContainer({
    name: o.name,
    Image: o.image ?? TEST_IMAGE,
    Cmd: o.cmd,
    Tty: o.tty ?? false,
    StopTimeout: 1,
    HostConfig: {
      NetworkMode: 'none',
      ...(o.nanoCpus ? { NanoCpus: o.nanoCpus } : {}),
      ...(o.restartAlways ? { RestartPolicy: { Name: 'always' } } : {}),
    },
  });
  await c.start();
  return c;
}

/** A counter kept in the container's filesystem, so each run of the same container prints a new run number. */
export function tickingScript(prefix: string, periodSeconds = 0.2): string[] {
  return [
    'sh',
    '-c',
    `n=$(cat /tmp/run 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/run; i=0; ` +
      `while :; do i=$((i+1)); echo "${prefix} run=$n out=$i"; echo "${prefix} run=$n err=$i" >&2; sleep ${periodSeconds}; done`,
  ];
}

/** A second, private engine the test may kill and restart without disturbing the shared one. */
export class PrivateDockerd {
  readonly dir = mkdtempSync('/tmp/hwp-');
  readonly host = `unix://${this.dir}/docker.sock`;
  readonly docker = dockerClient(this.host);

  async start(): Promise<void> {
    await run('bash', ['.ci/dockerd.sh', 'start', this.dir], { timeout: 90_000 });
  }

  pid(): number {
    return Number(readFileSync(`${this.dir}/docker.pid`, 'utf8').trim());
  }

  async stop(): Promise<void> {
    await run('bash', ['.ci/dockerd.sh', 'stop', this.dir], { timeout: 60_000 });
  }

  async destroy(): Promise<void> {
    try {
      await this.stop();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

export async function dockerdAvailable(): Promise<boolean> {
  try {
    await run('sh', ['-c', 'command -v dockerd && command -v busybox && [ "$(id -u)" = 0 ]']);
    return true;
  } catch {
    return false;
  }
}

/**
 * Per-file bookkeeping for Docker tests: `name()` hands out unique container names removed after the file,
 * `track()` registers sources stopped after each test. Registers its own afterEach/afterAll hooks.
 */
export function dockerTestScope(afterEachExtra?: () => Promise<void>) {
  const docker = testDocker();
  const cleanup: string[] = [];
  let harnesses: Harness[] = [];
  afterEach(async () => {
    await Promise.all(harnesses.map((h) => h.source.stop()));
    for (const h of harnesses) h.control.stop();
    harnesses = [];
    await afterEachExtra?.();
  });
  afterAll(async () => {
    await Promise.all(cleanup.map((n) => removeContainer(docker, n)));
  });
  return {
    docker,
    name(prefix: string): string {
      const n = uniqueName(prefix);
      cleanup.push(n);
      return n;
    },
    track(h: Harness): Harness {
      harnesses.push(h);
      return h;
    },
  };
}
