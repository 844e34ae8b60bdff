import type { DockerTls } from '../../config/docker-hosts.js';
import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { Finding } from '../../parsers/finding.js';
import { CpuSampler } from './cpu-sampler.js';
import { Discovery, type ReadPosition } from './discovery.js';
import { resumePoint, type SavedLogPosition } from './resume.js';
import { EngineConnection, type DockerStatus } from './engine.js';
import { EventStream } from './events.js';
import type { WatchedContainer, WatchedContainers } from './types.js';

export type { DockerStatus } from './engine.js';

export interface DockerSourceOptions {
  /** DOCKER_HOST; unset = dockerode's default (which honours the DOCKER_HOST environment variable). */
  dockerHost?: string;
  /** TLS client certificates for a tcp:// dockerHost (HEADWATCH_DOCKER_TLS_<NAME>_*). */
  tls?: DockerTls;
  /** ssh:// hosts: known_hosts file to check the host key against. */
  knownHosts?: string;
  /** The host's name (HEADWATCH_DOCKER_HOSTS; default `local`). */
  hostName?: string;
  /**
   * Every watched host's name (DockerHosts; default: this one). With more than one, containers are named
   * `host/container` and a plain container name means that name on any of them.
   */
  allHosts?: string[];
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
  /**
   * The stored log cursor: a container found at start is read from where its log was left (at most
   * `catchupMaxMs` back) instead of from now. Unset: from now, as a first start.
   */
  logCursor?: { saved(container: string): SavedLogPosition | undefined; catchupMaxMs: number };
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
/** How far back a container's log is read when no cursor store is given (the same default as HEADWATCH_LOG_CATCHUP_MAX). */
const RESUME_WITHOUT_CURSOR_MS = 10 * 60_000;

export class DockerSource implements WatchedContainers {
  private readonly engine: EngineConnection;
  private readonly events = new EventStream();
  private readonly discovery: Discovery;
  private readonly cpu: CpuSampler;
  private readonly onStatus: (s: DockerStatus) => void;
  /** When start() was first called: containers started later are new to headwatch, their whole log too. */
  private watchingSince: number | undefined;
  /** The host's name (`local` for DOCKER_HOST). */
  readonly hostName: string;

  constructor(opts: DockerSourceOptions) {
    const clock = opts.clock ?? Date.now;
    const log = opts.logger.child({ component: 'docker' });
    const hostName = opts.hostName ?? 'local';
    const allHosts = opts.allHosts ?? [hostName];
    const severalHosts = allHosts.length > 1;
    this.hostName = hostName;
    this.engine = new EngineConnection(
      { name: hostName, url: opts.dockerHost, ...(opts.tls ? { tls: opts.tls } : {}), ...(opts.knownHosts ? { knownHosts: opts.knownHosts } : {}), several: severalHosts },
      severalHosts ? log.child({ dockerHost: hostName }) : log,
      opts.metrics,
      clock,
    );
    this.cpu = new CpuSampler({
      engine: this.engine,
      cpuSampleMs: opts.cpuSampleMs,
      cpuVia: opts.cpuVia,
      idleSampleEvery: opts.idleSampleEvery,
      metrics: opts.metrics,
      log,
      clock,
      containers: () => [...this.discovery.tracked.values()],
      isWatched: (t) => this.discovery.tracked.get(t.info.nameOnHost ?? t.info.name) === t,
      onFinding: opts.onFinding,
    });
    this.discovery = new Discovery({
      engine: this.engine,
      cpu: this.cpu,
      hostName,
      allHosts,
      headscaleContainer: opts.headscaleContainer,
      tailscaleContainers: opts.tailscaleContainers,
      maxLineBytes: opts.maxLineBytes,
      log,
      clock,
      onLine: opts.onLine,
      onSkipped: opts.onSkipped,
      onFinding: opts.onFinding,
      resume: (name, id, startedAtMs) => {
        const now = Date.now();
        const cursor = opts.logCursor;
        // Started after this source began watching: it came up during the first listing, so its log is all new.
        const startedAfterWatch = startedAtMs !== undefined && this.watchingSince !== undefined && startedAtMs >= this.watchingSince;
        return resumePoint(cursor?.saved(name), id, now, cursor?.catchupMaxMs ?? RESUME_WITHOUT_CURSOR_MS, startedAfterWatch ? this.watchingSince : undefined);
      },
    });
    this.onStatus = opts.onStatus;
  }

  /** Connects (waiting at most a few seconds) and keeps retrying in the background if the engine is absent. */
  async start(): Promise<void> {
    if (this.engine.running) return;
    this.watchingSince ??= Date.now();
    this.cpu.start();
    await this.engine.start({
      connected: async (gen) => {
        const { engine, events, discovery } = this;
        await events.open(engine.docker, engine.signal, Date.now(), () => engine.current(gen), (ev) => discovery.onEvent(ev), (err) => engine.lost(gen, err));
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

  /** How far each watched container's log has been read: what the log cursor stores. */
  positions(): ReadPosition[] {
    return this.discovery.positions();
  }

  /** Where this engine is, for messages (with several hosts: its name and URL). */
  get where(): string {
    return this.engine.host;
  }

  /** The dockerode client of this host (actions use it to restart and exec). */
  get client(): EngineConnection['docker'] {
    return this.engine.docker;
  }

  watched(): WatchedContainer[] {
    return [...this.discovery.tracked.values()].map((t) => t.info);
  }
}
