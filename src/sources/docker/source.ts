import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { Finding } from '../../parsers/finding.js';
import { CpuSampler } from './cpu-sampler.js';
import { Discovery } from './discovery.js';
import { EngineConnection, type DockerStatus } from './engine.js';
import { EventStream } from './events.js';
import type { WatchedContainer, WatchedContainers } from './types.js';

export type { DockerStatus } from './engine.js';

export interface DockerSourceOptions {
  /** DOCKER_HOST; unset = dockerode's default (which honours the DOCKER_HOST environment variable). */
  dockerHost?: string;
  /** HEADSCALE_CONTAINER: the container with role `headscale`. */
  headscaleContainer: string;
  /** TAILSCALE_CONTAINERS; unset = every container whose image name contains "tailscale". */
  tailscaleContainers?: string[];
  /** CPU_SAMPLE_SECONDS × 1000. */
  cpuSampleMs: number;
  /**
   * `auto` (default): read the container's cgroup counter when the engine is provably on this machine, else
   * one-shot stats requests; `api`: always the stats API.
   */
  cpuVia?: 'auto' | 'api';
  /**
   * Through the API, a container whose last sample was under 5 % of its allowance is sampled only every n-th
   * interval (default 3; 1 = always). The percentage still covers the whole time since its previous sample, and
   * the CPU detector tolerates gaps of three intervals. Halves to thirds the engine's cost for idle fleets.
   */
  idleSampleEvery?: number;
  /** Longest log line kept (bytes); longer ones are reported through onSkipped. */
  maxLineBytes?: number;
  logger: Logger;
  metrics: Metrics;
  /** One complete log line (stdout or stderr), timestamp prefix removed. */
  onLine: (c: WatchedContainer, line: string, at: number) => void;
  /** A line that was dropped: oversize, binary or invalid UTF-8. */
  onSkipped: (c: WatchedContainer, reason: string) => void;
  /** `cpu-sample` and `container-state` findings. */
  onFinding: (f: Finding) => void;
  onStatus: (s: DockerStatus) => void;
  clock?: () => number;
}

/**
 * Watches the Headscale and Tailscale containers of one Docker engine: discovers them (by name, or by image
 * for Tailscale), follows their logs across restarts and recreation, samples their CPU, and keeps going when
 * the engine disappears. It only observes: restarting and exec'ing are src/actions/docker-control.ts.
 *
 * The parts, composed here: EngineConnection (connect, backoff, reachability), EventStream (the `/events`
 * stream; the container list is read only on (re)connect), Discovery (which containers, their state, one
 * queue per name), ContainerLog/LogFollower (log streams and their framing), CpuSampler.
 *
 * CPU costs measured on dockerd 20.10 with 50 idle containers, engine + headwatch processes, % of one core:
 * streaming stats ~23 % (the engine collects every container every second); one-shot stats every 10 s ~1.8 %
 * (each still passes through dockerd's collector, containerd and the shim); the same with idle containers
 * sampled every third interval ~0.4 %; the container's cgroup counter, used when the engine is provably local
 * (see CgroupCpu), ~0.1 %.
 */
export class DockerSource implements WatchedContainers {
  private readonly engine: EngineConnection;
  private readonly events = new EventStream();
  private readonly discovery: Discovery;
  private readonly cpu: CpuSampler;
  private readonly onStatus: (s: DockerStatus) => void;

  constructor(opts: DockerSourceOptions) {
    const clock = opts.clock ?? Date.now;
    const log = opts.logger.child({ component: 'docker' });
    this.engine = new EngineConnection(opts.dockerHost, log, opts.metrics, clock);
    this.cpu = new CpuSampler({
      engine: this.engine,
      cpuSampleMs: opts.cpuSampleMs,
      cpuVia: opts.cpuVia,
      idleSampleEvery: opts.idleSampleEvery,
      metrics: opts.metrics,
      log,
      clock,
      containers: () => [...this.discovery.tracked.values()],
      isWatched: (t) => this.discovery.tracked.get(t.info.name) === t,
      onFinding: opts.onFinding,
    });
    this.discovery = new Discovery({
      engine: this.engine,
      cpu: this.cpu,
      headscaleContainer: opts.headscaleContainer,
      tailscaleContainers: opts.tailscaleContainers,
      maxLineBytes: opts.maxLineBytes,
      log,
      clock,
      onLine: opts.onLine,
      onSkipped: opts.onSkipped,
      onFinding: opts.onFinding,
    });
    this.onStatus = opts.onStatus;
  }

  /** Connects (waiting at most a few seconds) and keeps retrying in the background if the engine is absent. */
  async start(): Promise<void> {
    if (this.engine.running) return;
    this.cpu.start();
    await this.engine.start({
      connected: async (gen) => {
        const { engine, events, discovery } = this;
        await events.open(engine.docker, engine.signal, () => engine.current(gen), (ev) => discovery.onEvent(ev), (err) => engine.lost(gen, err));
        await discovery.sync(gen);
      },
      ready: () => this.discovery.synced(),
      disconnected: () => {
        this.events.close();
        this.discovery.detachAll();
      },
      describe: () => {
        const all = [...this.discovery.tracked.values()];
        return { watching: all.map((t) => t.info.name), cpuFromCgroup: all.filter((t) => t.cpu.cgroup).length };
      },
      onStatus: (s) => this.onStatus(s),
    });
  }

  async stop(): Promise<void> {
    if (!this.engine.running) return;
    this.engine.stop();
    this.cpu.stop();
    this.events.close();
    // Let queued work observe that the source stopped and finish before callers tear down what it uses.
    await this.discovery.stop();
  }

  status(): DockerStatus {
    return this.engine.status();
  }

  watched(): WatchedContainer[] {
    return [...this.discovery.tracked.values()].map((t) => t.info);
  }
}
