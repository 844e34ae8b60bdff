import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { Finding } from '../../parsers/finding.js';
import { CgroupCpu, cgroupReading, hostCpu } from './cgroup.js';
import { cpuPercent, readingFromStats, type CpuReading } from './cpu.js';
import type { EngineConnection } from './engine.js';
import { safely } from './engine.js';
import { explainDockerError } from './host.js';
import type { WatchedContainer } from './types.js';

/** What the sampler keeps per container. */
export interface CpuTrack {
  /** CPUs the container may use (its --cpus / quota), when limited. */
  limit?: number;
  prev?: CpuReading & { id: string; via: 'cgroup' | 'api' };
  /** Set when this container's cgroup counter is readable here (local engine). */
  cgroup?: CgroupCpu;
  /** Sampling rounds skipped in a row because the container is idle (API path only). */
  idleSkips: number;
}

/** A watched container as the sampler sees it; `info` is replaced (never mutated) on every change. */
export interface Sampled {
  info: WatchedContainer;
  cpu: CpuTrack;
}

export interface CpuSamplerOptions {
  engine: EngineConnection;
  cpuSampleMs: number;
  cpuVia?: 'auto' | 'api';
  idleSampleEvery?: number;
  metrics: Metrics;
  log: Logger;
  clock: () => number;
  /** The containers watched now. */
  containers(): Sampled[];
  /** Whether `t` is still the container watched under its name. */
  isWatched(t: Sampled): boolean;
  onFinding(f: Finding): void;
}

// The engine answers a one-shot stats request on its collector's next 1 s tick, however few are asked at once, so
// requests in flight together cost one tick: at 8 a round over 50 containers took 8.4 s (bench hosts-poll), at 64
// it takes about 2.5 s, and headwatch's CPU per round fell too (132 → 90 ms).
const SAMPLE_CONCURRENCY = 64;
/** Below this percent of its allowance a container counts as idle for sampling purposes. */
const IDLE_PERCENT = 5;

/**
 * Samples the CPU of every running watched container every `cpuSampleMs`; the percentage is computed
 * between consecutive readings of the same container, so a sample covers the whole interval, not a 1 s
 * glimpse. Reads the container's cgroup counter when the engine is provably local, else one-shot stats
 * requests, skipping idle containers on most rounds (see DockerSource for the measured costs).
 */
export class CpuSampler {
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly o: CpuSamplerOptions) {}

  start(): void {
    this.timer = setInterval(() => void this.sampleAll(), this.o.cpuSampleMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A running container was inspected: use its cgroup counter when it is readable here. */
  locate(t: Sampled, pid: number, id: string): void {
    t.cpu.cgroup = this.o.cpuVia === 'api' ? undefined : CgroupCpu.locate(pid, id);
  }

  /** Takes the first reading of a container not sampled yet (or recreated since). */
  first(t: Sampled): void {
    if (!t.cpu.prev || t.cpu.prev.id !== t.info.id) void this.sampleOne(t);
  }

  /** The container stopped: no cgroup counter until it runs again. */
  stopped(t: Sampled): void {
    t.cpu.cgroup = undefined;
  }

  /** The container is no longer watched. */
  forget(name: string): void {
    this.o.metrics.containerCpu.remove({ container: name });
  }

  private async sampleAll(): Promise<void> {
    const { engine } = this.o;
    if (this.sampling || !engine.connected || !engine.running) return;
    this.sampling = true;
    const t0 = performance.now();
    try {
      const all = this.o.containers().filter((t) => t.info.running);
      const local = all.filter((t) => t.cpu.cgroup);
      if (local.length > 0) {
        const host = hostCpu();
        for (const t of local) await this.sampleOne(t, host);
      }
      const every = Math.max(1, this.o.idleSampleEvery ?? 3);
      const queue = all.filter((t) => {
        if (t.cpu.cgroup) return false;
        const idle = t.info.cpuPercent !== undefined && t.info.cpuPercent < IDLE_PERCENT;
        if (idle && t.cpu.idleSkips < every - 1) {
          t.cpu.idleSkips++;
          return false;
        }
        t.cpu.idleSkips = 0;
        return true;
      });
      const worker = async () => {
        for (let t = queue.shift(); t; t = queue.shift()) await this.sampleOne(t);
      };
      await Promise.all(Array.from({ length: SAMPLE_CONCURRENCY }, worker));
      this.o.metrics.cpuPollSeconds.observe({ host: engine.hostName }, (performance.now() - t0) / 1000);
    } finally {
      this.sampling = false;
    }
  }

  /** Takes one reading; from the second reading of the same container on, emits a cpu-sample finding. */
  private async sampleOne(t: Sampled, host = t.cpu.cgroup ? hostCpu() : undefined): Promise<void> {
    const { engine } = this.o;
    const id = t.info.id;
    const name = t.info.name;
    let reading: CpuReading | undefined;
    let via: 'cgroup' | 'api' = 'api';
    if (t.cpu.cgroup && host) {
      reading = cgroupReading(t.cpu.cgroup, host, Date.now());
      if (reading) via = 'cgroup';
      else t.cpu.cgroup = undefined; // gone or moved: the API knows
    }
    if (!reading) {
      let stats: unknown;
      try {
        stats = await engine.docker.getContainer(id).stats({
          stream: false,
          'one-shot': true,
          abortSignal: AbortSignal.any([engine.signal, AbortSignal.timeout(Math.max(2_000, this.o.cpuSampleMs))]),
        } as { stream?: false; 'one-shot'?: boolean });
      } catch (err) {
        if (engine.running) this.o.log.debug({ container: name, reason: explainDockerError(err, engine.host) }, 'CPU sample failed');
        return;
      }
      reading = readingFromStats(stats);
    }
    if (!engine.running || !this.o.isWatched(t) || t.info.id !== id || !reading) return;
    const prev = t.cpu.prev;
    t.cpu.prev = { ...reading, id, via };
    if (!prev || prev.id !== id || prev.via !== via) return;
    const cpu = cpuPercent(prev, reading, t.cpu.limit);
    if (!cpu) return;
    t.info = { ...t.info, cpuPercent: cpu.percent };
    this.o.metrics.containerCpu.set({ container: name }, cpu.percent);
    this.o.metrics.cpuSamples.inc({ container: name });
    const f: Finding = { kind: 'cpu-sample', at: this.o.clock(), origin: name, percent: cpu.percent, cpus: cpu.cpus, ...(t.cpu.limit ? { limit: t.cpu.limit } : {}) };
    safely(this.o.log, 'onFinding', () => this.o.onFinding(f));
  }
}
