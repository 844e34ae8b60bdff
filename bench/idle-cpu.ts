/**
 * Idle cost of watching: 50 idle containers on the engine, the whole machine's CPU measured over a window
 * without headwatch and then with a DockerSource watching all of them (log streams, events stream, CPU
 * sampling at CPU_SAMPLE_SECONDS). Target: the difference stays ≤ 1 % of one core.
 *
 * The machine-wide figure (from /proc/stat) is what the target is about, but it also counts everything else
 * running. So the engine's own processes (dockerd, containerd, shims: every process whose command line names
 * the engine's socket directory, for a local unix socket) and headwatch's process are measured too; their
 * difference is the attributable overhead and is stable on a busy machine.
 *
 * Run alone: `npx tsx bench/idle-cpu.ts [--api]` (DOCKER_HOST must point at an engine with the busybox test
 * image; --api forces one-shot stats requests instead of the local cgroup fast path, to compare).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Metrics } from '../src/http/metrics.js';
import { createLogger } from '../src/log/logger.js';
import { dockerClient, describeHost } from '../src/sources/docker/host.js';
import { DockerSource } from '../src/sources/docker/source.js';
import { ensureTestImage, fixtureEngine, TEST_IMAGE } from './images.js';
import { spread } from './report.js';

export interface IdleCpuOptions {
  containers?: number;
  /** Length of each measurement window (default 30 s). */
  windowMs?: number;
  /** Sampling interval under test (default CPU_SAMPLE_SECONDS from the environment, else 10). */
  cpuSampleSeconds?: number;
  dockerHost?: string;
  image?: string;
  /** How the source samples CPU (default auto: cgroup files when the engine is local, else the API). */
  cpuVia?: 'auto' | 'api';
}

export interface IdleCpuResult {
  containers: number;
  /**
   * How much the machine-wide baseline varied between its sub-windows (max − min, % of one core): an overhead
   * smaller than this cannot be told from the machine's own noise. Same for the engine + headwatch processes.
   */
  baselineNoiseCorePct: number;
  attributedNoiseCorePct?: number;
  baselineCorePct: number;
  withHeadwatchCorePct: number;
  overheadCorePct: number;
  /** Engine processes + this process, without and with watching (undefined for a remote engine). */
  attributedBaselineCorePct?: number;
  attributedWithHeadwatchCorePct?: number;
  attributedOverheadCorePct?: number;
  /** This process alone while watching. */
  headwatchProcessCorePct: number;
  cpuSampleSeconds: number;
  windowMs: number;
  cpuVia: 'auto' | 'api';
}

export async function benchIdleCpu(opts: IdleCpuOptions = {}): Promise<IdleCpuResult> {
  const n = opts.containers ?? 50;
  const windowMs = opts.windowMs ?? 30_000;
  const cpuSampleSeconds = opts.cpuSampleSeconds ?? (Number(process.env.CPU_SAMPLE_SECONDS) || 10);
  // Fixtures on the raw engine when one is named (see fixtureEngine); headwatch watches opts.dockerHost.
  const fixtures = opts.dockerHost === undefined ? fixtureEngine() : { docker: dockerClient(opts.dockerHost), host: opts.dockerHost };
  const docker = fixtures.docker;
  const host = describeHost(fixtures.host);
  if (!opts.image) await ensureTestImage(docker, host);
  const image = opts.image ?? TEST_IMAGE;
  const engineDir = host.startsWith('unix://') ? dirname(host.slice('unix://'.length)) : undefined;
  const names = Array.from({ length: n }, (_, i) => `hw-bench-idle-${process.pid}-${i}`);

  const remove = () => Promise.all(names.map((name) => docker.getContainer(name).remove({ force: true }).catch(() => {})));
  try {
    // Start them a few at a time: fifty parallel creates on a small CI machine mostly measure contention.
    for (let i = 0; i < names.length; i += 5) {
      await Promise.all(
        names.slice(i, i + 5).map(async (name) => {
          const c = await docker.createContainer({ name, Image: image, Cmd: ['sleep', '1d'], HostConfig: { NetworkMode: 'none' } });
          await c.start();
        }),
      );
    }
    await sleep(5_000); // let container start-up work settle

    const baselineParts = await measureParts(windowMs, engineDir);
    const baseline = mean(baselineParts);

    const metrics = new Metrics({ processMetrics: false });
    const source = new DockerSource({
      dockerHost: opts.dockerHost,
      headscaleContainer: 'hw-bench-no-headscale',
      tailscaleContainers: names,
      cpuSampleMs: cpuSampleSeconds * 1000,
      cpuVia: opts.cpuVia,
      logger: createLogger('warn'),
      metrics,
      onLine: () => {},
      onSkipped: () => {},
      onFinding: () => {},
      onStatus: () => {},
    });
    let watching: Measurement;
    try {
      await source.start();
      if (source.watched().length !== n) throw new Error(`watching ${source.watched().length} of ${n} containers`);
      await sleep(Math.max(3_000, cpuSampleSeconds * 1000)); // attach and first samples are start-up, not idle cost
      watching = mean(await measureParts(windowMs, engineDir));
    } finally {
      await source.stop();
    }

    const attributed = (m: Measurement) => (m.engineCorePct === undefined ? undefined : m.engineCorePct + m.selfCorePct);
    const ab = attributed(baseline);
    const aw = attributed(watching);
    const attributedParts = baselineParts.map(attributed).filter((x): x is number => x !== undefined);
    return {
      containers: n,
      baselineNoiseCorePct: round(spread(baselineParts.map((m) => m.machineCorePct))),
      ...(attributedParts.length === baselineParts.length ? { attributedNoiseCorePct: round(spread(attributedParts)) } : {}),
      baselineCorePct: round(baseline.machineCorePct),
      withHeadwatchCorePct: round(watching.machineCorePct),
      overheadCorePct: round(watching.machineCorePct - baseline.machineCorePct),
      attributedBaselineCorePct: ab === undefined ? undefined : round(ab),
      attributedWithHeadwatchCorePct: aw === undefined ? undefined : round(aw),
      attributedOverheadCorePct: ab === undefined || aw === undefined ? undefined : round(aw - ab),
      headwatchProcessCorePct: round(watching.selfCorePct),
      cpuSampleSeconds,
      windowMs,
      cpuVia: opts.cpuVia ?? 'auto',
    };
  } finally {
    await remove();
  }
}

interface Measurement {
  machineCorePct: number;
  engineCorePct?: number;
  selfCorePct: number;
}

/** Sub-windows a measurement is split into, so the baseline's own variation can be seen. */
const PARTS = 3;

async function measureParts(windowMs: number, engineDir: string | undefined): Promise<Measurement[]> {
  const out: Measurement[] = [];
  for (let i = 0; i < PARTS; i++) out.push(await measure(windowMs / PARTS, engineDir));
  return out;
}

function mean(ms: Measurement[]): Measurement {
  const avg = (f: (m: Measurement) => number | undefined) => {
    const xs = ms.map(f);
    return xs.some((x) => x === undefined) ? undefined : (xs as number[]).reduce((a, b) => a + b, 0) / xs.length;
  };
  return { machineCorePct: avg((m) => m.machineCorePct)!, engineCorePct: avg((m) => m.engineCorePct), selfCorePct: avg((m) => m.selfCorePct)! };
}

/** CPU over a window, each figure in percent of one core. */
async function measure(windowMs: number, engineDir: string | undefined): Promise<Measurement> {
  const cpus = availableParallelism();
  const hz = 100; // USER_HZ; /proc/<pid>/stat counts in these ticks on every Linux build that matters
  const m0 = machineTicks();
  const e0 = engineDir ? engineTicks(engineDir) : undefined;
  const s0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(windowMs);
  const seconds = (performance.now() - t0) / 1000;
  const m1 = machineTicks();
  const e1 = engineDir ? engineTicks(engineDir) : undefined;
  const s1 = process.cpuUsage(s0);
  return {
    machineCorePct: ((m1.busy - m0.busy) / (m1.total - m0.total)) * cpus * 100,
    engineCorePct: e0 !== undefined && e1 !== undefined ? ((e1 - e0) / hz / seconds) * 100 : undefined,
    selfCorePct: ((s1.user + s1.system) / 1e6 / seconds) * 100,
  };
}

function machineTicks(): { busy: number; total: number } {
  const first = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
  const v = first.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

/** utime+stime of every process whose command line mentions the engine's directory (dockerd, containerd, shims). */
function engineTicks(dir: string): number {
  let ticks = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      /* process ended meanwhile */
    }
  }
  return ticks;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const via = process.argv.includes('--api') ? 'api' : 'auto';
  const r = await benchIdleCpu({ windowMs: Number(process.env.BENCH_WINDOW_MS) || undefined, cpuVia: via });
  console.log(JSON.stringify(r, null, 2));
  console.log(
    `${r.containers} idle containers, CPU via ${r.cpuVia}, sampling every ${r.cpuSampleSeconds} s: machine ${r.baselineCorePct} % → ${r.withHeadwatchCorePct} % of one core (baseline noise ${r.baselineNoiseCorePct} %) ` +
      `(overhead ${r.overheadCorePct} %; engine+headwatch ${r.attributedBaselineCorePct ?? '?'} % → ${r.attributedWithHeadwatchCorePct ?? '?'} %, ` +
      `overhead ${r.attributedOverheadCorePct ?? '?'} %; headwatch process ${r.headwatchProcessCorePct} %). Target ≤ 1 %.`,
  );
}
