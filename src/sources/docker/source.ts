import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { ContainerStateFinding, Finding } from '../../parsers/finding.js';
import { CgroupCpu, cgroupReading, hostCpu } from './cgroup.js';
import { cpuLimit, cpuPercent, readingFromStats, type CpuReading } from './cpu.js';
import { FrameDemuxer } from './frames.js';
import { describeHost, dockerClient, explainDockerError, statusCodeOf } from './host.js';
import { LogFollower, nowNs } from './logs.js';
import { lastLogLines } from './tail.js';
import type { ContainerControl, ContainerRole, ExecResult, WatchedContainer } from './types.js';

export interface DockerStatus {
  reachable: boolean;
  error?: string;
  /** When the current state began (clock ms). */
  since: number;
}

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

interface Tracked {
  /** Replaced (never mutated) on every change, so callers may keep the object they were handed. */
  info: WatchedContainer;
  limit?: number;
  follower: LogFollower;
  prevCpu?: CpuReading & { id: string; via: 'cgroup' | 'api' };
  /** Set when this container's cgroup counter is readable here (local engine). */
  cgroup?: CgroupCpu;
  /** Sampling rounds skipped in a row because the container is idle (API path only). */
  idleSkips: number;
  logRetries: number;
  logRetryTimer?: NodeJS.Timeout;
  logRefused?: boolean;
  /** An `oom` event arrived: the `die` that follows was the kernel's OOM killer. */
  oomSeen?: boolean;
  tty: boolean;
}

type SyncMode = 'initial' | 'resync' | 'event';

const RETRY_BASE_MS = 250;
const RETRY_CAP_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;
/** A connection that lived this long counts as healthy: the next loss starts the backoff from scratch. */
const STABLE_MS = 10_000;
const SAMPLE_CONCURRENCY = 8;
/** Below this percent of its allowance a container counts as idle for sampling purposes. */
const IDLE_PERCENT = 5;
const EXEC_OUTPUT_CAP = 1024 * 1024;
const WATCHED_EVENTS = ['start', 'die', 'oom', 'stop', 'destroy', 'restart', 'rename'];
/** Log lines kept as evidence when a container stops. */
const LAST_LINES = 10;

/**
 * Watches the Headscale and Tailscale containers of one Docker engine: discovers them (by name, or by image
 * for Tailscale), follows their logs across restarts and recreation, samples their CPU, and keeps going when
 * the engine disappears. Discovery is event-driven (the `/events` stream); the container list is read only on
 * (re)connect.
 *
 * CPU is sampled every `cpuSampleMs` and the percentage computed between consecutive samples of the same
 * container (so a sample covers the whole interval, not a 1 s glimpse). Costs measured on dockerd 20.10 with
 * 50 idle containers, engine + headwatch processes, % of one core: streaming stats ~23 % (the engine collects
 * every container every second); one-shot stats every 10 s ~1.8 % (each still passes through dockerd's
 * collector, containerd and the shim); the same with idle containers sampled every third interval ~0.4 %;
 * the container's cgroup counter, used when the engine is provably local (see CgroupCpu), ~0.1 %.
 */
export class DockerSource implements ContainerControl {
  private readonly docker: Docker;
  private readonly host: string;
  private readonly clock: () => number;
  private readonly log: Logger;
  private readonly tracked = new Map<string, Tracked>();
  private readonly queues = new Map<string, Promise<void>>();
  private state: DockerStatus;
  /** Whether onStatus has been told anything yet. */
  private reported = false;
  private running = false;
  private life = new AbortController();
  private events: NodeJS.ReadableStream | undefined;
  /** Bumped on every connect attempt and loss; callbacks of older attempts ignore themselves. */
  private connectSeq = 0;
  private connected = false;
  private connectedAt = 0;
  private initialSyncDone = false;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private cpuTimer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly opts: DockerSourceOptions) {
    this.docker = dockerClient(opts.dockerHost);
    this.host = describeHost(opts.dockerHost);
    this.clock = opts.clock ?? Date.now;
    this.log = opts.logger.child({ component: 'docker' });
    this.state = { reachable: false, error: 'not connected yet', since: this.clock() };
  }

  /** Connects (waiting at most a few seconds) and keeps retrying in the background if the engine is absent. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.life = new AbortController();
    // One listener per open request (each log stream holds one for its lifetime): not a leak.
    setMaxListeners(0, this.life.signal);
    this.cpuTimer = setInterval(() => void this.sampleAll(), this.opts.cpuSampleMs);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connect(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PING_TIMEOUT_MS + 1_000);
      }),
    ]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.connected = false;
    this.connectSeq++;
    clearInterval(this.cpuTimer);
    clearTimeout(this.retryTimer);
    this.cpuTimer = this.retryTimer = undefined;
    this.life.abort();
    this.closeEvents();
    for (const t of this.tracked.values()) {
      clearTimeout(t.logRetryTimer);
      t.follower.detach();
    }
    this.tracked.clear();
    // Let queued work observe `running === false` and finish before callers tear down what it uses.
    await Promise.allSettled([...this.queues.values()]);
  }

  status(): DockerStatus {
    return { ...this.state };
  }

  watched(): WatchedContainer[] {
    return [...this.tracked.values()].map((t) => t.info);
  }

  async restart(name: string): Promise<{ startedAt: string }> {
    const c = this.docker.getContainer(name);
    try {
      // No `t`: the engine then uses the container's own stop timeout, as `docker restart` does.
      await c.restart();
      const info = await c.inspect();
      return { startedAt: info.State.StartedAt };
    } catch (err) {
      throw new Error(this.containerError(name, 'restart', err));
    }
  }

  async startedAt(name: string): Promise<string | undefined> {
    try {
      return (await this.docker.getContainer(name).inspect()).State.StartedAt;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw new Error(this.containerError(name, 'inspect', err));
    }
  }

  async exec(name: string, argv: string[], timeoutMs = 30_000): Promise<ExecResult> {
    if (!Array.isArray(argv) || argv.length === 0 || argv.some((a) => typeof a !== 'string')) {
      throw new TypeError('exec needs the command as a non-empty array of strings (argv), never a shell string');
    }
    const deadline = AbortSignal.timeout(timeoutMs);
    const signal = AbortSignal.any([deadline, this.life.signal]);
    let exec: Docker.Exec;
    let stream: NodeJS.ReadableStream;
    try {
      exec = await this.docker.getContainer(name).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, AttachStdin: false, Tty: false });
      stream = (await exec.start({ hijack: true, stdin: false, abortSignal: signal } as Docker.ExecStartOptions)) as NodeJS.ReadableStream;
    } catch (err) {
      throw new Error(this.containerError(name, `run ${argv[0]} in`, err));
    }
    const out = { stdout: [] as Buffer[], stderr: [] as Buffer[], sizes: { stdout: 0, stderr: 0 } };
    const demux = new FrameDemuxer((type, payload) => {
      if (out.sizes[type] >= EXEC_OUTPUT_CAP) return;
      const part = payload.subarray(0, EXEC_OUTPUT_CAP - out.sizes[type]);
      out[type].push(Buffer.from(part));
      out.sizes[type] += part.length;
    });
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
        reject(
          new Error(
            deadline.aborted
              ? `${argv[0]} in container ${name} did not finish within ${Math.round(timeoutMs / 1000)} s; it may still be running inside the container`
              : `headwatch is stopping; ${argv[0]} in container ${name} was abandoned`,
          ),
        );
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      stream.on('data', (chunk: Buffer) => demux.push(chunk));
      stream.on('error', () => {
        /* the end/close that follows settles the promise; an abort already rejected it */
      });
      const done = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      stream.on('end', done);
      stream.on('close', done);
    });
    // The exit code is set a moment after the output closes.
    let exitCode: number | null = null;
    for (let i = 0; i < 40 && !signal.aborted; i++) {
      const info = await exec.inspect();
      if (!info.Running && info.ExitCode !== null && info.ExitCode !== undefined) {
        exitCode = info.ExitCode;
        break;
      }
      await sleep(25);
    }
    return {
      exitCode: exitCode ?? -1,
      stdout: Buffer.concat(out.stdout).toString('utf8'),
      stderr: Buffer.concat(out.stderr).toString('utf8'),
    };
  }

  // --- connection ---------------------------------------------------------------------------------------

  private async connect(): Promise<void> {
    if (!this.running) return;
    const seq = ++this.connectSeq;
    try {
      // dockerode's ping takes an abort signal at runtime; its typings do not say so.
      const ping = this.docker.ping.bind(this.docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal: AbortSignal.any([this.life.signal, AbortSignal.timeout(PING_TIMEOUT_MS)]) });
      if (seq !== this.connectSeq) return;
      await this.openEvents(seq);
      await this.sync(seq);
      if (seq !== this.connectSeq || !this.running) return;
      this.connected = true;
      this.connectedAt = Date.now();
      this.initialSyncDone = true;
      this.setReachable(true);
    } catch (err) {
      if (seq !== this.connectSeq || !this.running) return;
      this.connectSeq++;
      this.connected = false;
      this.closeEvents();
      for (const t of this.tracked.values()) t.follower.detach();
      this.setReachable(false, explainDockerError(err, this.host));
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (!this.running || this.retryTimer) return;
    const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  /** The events stream ended: the engine went away or restarted. Reconnect, then resync. */
  private onConnectionLost(seq: number, err?: unknown): void {
    if (seq !== this.connectSeq || !this.running) return;
    this.connectSeq++;
    if (this.connected && Date.now() - this.connectedAt > STABLE_MS) this.attempt = 0;
    this.connected = false;
    this.closeEvents();
    for (const t of this.tracked.values()) t.follower.detach();
    this.log.debug({ reason: err ? explainDockerError(err, this.host) : 'stream ended' }, 'Docker events stream closed; reconnecting');
    this.scheduleRetry();
  }

  private setReachable(reachable: boolean, error?: string): void {
    this.opts.metrics.up.set({ dependency: 'docker' }, reachable ? 1 : 0);
    const changed = !this.reported || this.state.reachable !== reachable;
    this.state = reachable ? { reachable, since: changed ? this.clock() : this.state.since } : { reachable, error, since: changed ? this.clock() : this.state.since };
    if (!changed) return;
    this.reported = true;
    if (reachable) {
      const viaCgroup = [...this.tracked.values()].filter((t) => t.cgroup).length;
      this.log.info(
        { host: this.host, watching: [...this.tracked.keys()], cpuFromCgroup: viaCgroup },
        `Docker engine reachable at ${this.host}; watching ${this.tracked.size} container(s)`,
      );
    } else {
      this.log.warn(
        { host: this.host },
        `Docker engine unreachable: ${error}. headwatch keeps retrying (at most every ${RETRY_CAP_MS / 1000} s); container logs and CPU are not watched meanwhile.`,
      );
    }
    this.safe('onStatus', () => this.opts.onStatus(this.status()));
  }

  private async openEvents(seq: number): Promise<void> {
    const stream = (await this.docker.getEvents({
      filters: { type: ['container'], event: WATCHED_EVENTS },
      abortSignal: this.life.signal,
    } as Parameters<Docker['getEvents']>[0])) as NodeJS.ReadableStream;
    if (seq !== this.connectSeq || !this.running) {
      (stream as NodeJS.ReadableStream & { destroy(): void }).destroy();
      return;
    }
    this.events = stream;
    let buf = '';
    stream.on('data', (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        let ev: DockerEvent;
        try {
          ev = JSON.parse(line) as DockerEvent;
        } catch {
          continue;
        }
        this.onEvent(ev);
      }
      if (buf.length > 1024 * 1024) buf = ''; // never an event: do not grow without bound
    });
    stream.on('error', (err: unknown) => this.onConnectionLost(seq, err));
    stream.on('end', () => this.onConnectionLost(seq));
    stream.on('close', () => this.onConnectionLost(seq));
  }

  private closeEvents(): void {
    const s = this.events as (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    this.events = undefined;
    if (!s) return;
    s.on('error', () => {});
    s.destroy();
  }

  // --- discovery ----------------------------------------------------------------------------------------

  private roleFor(name: string | undefined, image: string | undefined): ContainerRole | undefined {
    if (!name) return undefined;
    if (name === this.opts.headscaleContainer) return 'headscale';
    if (this.opts.tailscaleContainers) return this.opts.tailscaleContainers.includes(name) ? 'tailscale' : undefined;
    return image?.toLowerCase().includes('tailscale') ? 'tailscale' : undefined;
  }

  /** Reads the container list and brings every watched container (and its log stream) up to date. */
  private async sync(seq: number): Promise<void> {
    const mode: SyncMode = this.initialSyncDone ? 'resync' : 'initial';
    const list = await this.docker.listContainers({ all: true, abortSignal: this.life.signal } as Docker.ContainerListOptions);
    if (seq !== this.connectSeq) return;
    const seen = new Set<string>();
    const work: Promise<void>[] = [];
    for (const c of list) {
      const name = c.Names?.[0]?.replace(/^\//, '');
      if (!name || !this.roleFor(name, c.Image)) continue;
      seen.add(name);
      work.push(this.enqueue(name, () => this.refresh(name, c.Id, mode)));
    }
    for (const name of this.tracked.keys()) {
      if (seen.has(name)) continue;
      work.push(
        this.enqueue(name, async () => {
          const t = this.tracked.get(name);
          if (t) this.drop(name, t, 'destroy');
        }),
      );
    }
    await Promise.all(work);
    if (seq !== this.connectSeq || !this.running) return;
    this.emitInventory(list, mode === 'initial');
  }

  /** What the engine has, against what headwatch looks for by name: the container-missing detector's input. */
  private emitInventory(list: Docker.ContainerInfo[], initial: boolean): void {
    const expected = [
      { name: this.opts.headscaleContainer, role: 'headscale' as const },
      ...(this.opts.tailscaleContainers ?? []).map((name) => ({ name, role: 'tailscale' as const })),
    ];
    const present = list.map((c) => ({ name: c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12), image: c.Image ?? '', state: c.State ?? 'unknown' }));
    if (initial) {
      for (const e of expected) {
        if (present.some((p) => p.name === e.name)) continue;
        const setting = e.role === 'headscale' ? 'HEADSCALE_CONTAINER' : 'TAILSCALE_CONTAINERS';
        this.log.warn({ container: e.name, host: this.host }, `no container named "${e.name}" (${setting}) on ${this.host}; container-missing fires unless it appears`);
      }
    }
    const f: Finding = { kind: 'container-inventory', at: this.clock(), origin: 'docker', expected, present, host: this.host, initial };
    this.safe('onFinding', () => this.opts.onFinding(f));
  }

  private onEvent(ev: DockerEvent): void {
    const action = ev.Action ?? ev.status;
    const id = ev.Actor?.ID ?? ev.id;
    const attrs = ev.Actor?.Attributes ?? {};
    const name = attrs.name;
    if (!action || !id || !name) return;
    if (action === 'rename') {
      const oldName = attrs.oldName?.replace(/^\//, '');
      if (oldName && this.tracked.get(oldName)?.info.id === id) {
        void this.enqueue(oldName, async () => {
          const t = this.tracked.get(oldName);
          if (t?.info.id === id) this.drop(oldName, t);
        }).catch(() => {});
      }
      if (this.roleFor(name, attrs.image ?? ev.from)) void this.enqueue(name, () => this.refresh(name, id, 'event')).catch((err) => this.eventFailed(name, err));
      return;
    }
    if (!this.roleFor(name, attrs.image ?? ev.from) && !this.tracked.has(name)) return;
    const task = async () => {
      const t = this.tracked.get(name);
      switch (action) {
        case 'start':
          await this.refresh(name, id, 'event', 'start');
          break;
        case 'restart':
          if (t?.info.id === id) this.emitState(t, 'restart');
          break;
        case 'oom':
          if (t?.info.id === id) t.oomSeen = true;
          break;
        case 'die':
          if (t?.info.id === id) {
            t.info = { ...t.info, running: false };
            const exitCode = Number(attrs.exitCode);
            const untilSec = ev.timeNano ? Math.ceil(ev.timeNano / 1e9) : ev.time;
            const lastLines = await lastLogLines(this.docker.getContainer(id), { tty: t.tty, n: LAST_LINES, untilSec, signal: this.life.signal });
            // The policy now (it may have been changed since the start): whether the engine will bring it back.
            const policy = await this.docker
              .getContainer(id)
              .inspect({ abortSignal: this.life.signal } as Docker.ContainerInspectOptions)
              .then((i) => i.HostConfig?.RestartPolicy?.Name || 'no')
              .catch(() => undefined);
            this.emitState(t, 'die', {
              ...(Number.isFinite(exitCode) && attrs.exitCode !== undefined ? { exitCode } : {}),
              oomKilled: t.oomSeen === true,
              lastLines,
              ...(policy ? { restartPolicy: policy } : {}),
            });
            t.oomSeen = false;
          }
          break;
        case 'stop':
          // `docker stop` (or compose stop): the engine will not restart it, whatever its policy.
          if (t?.info.id === id) this.emitState(t, 'stop');
          break;
        case 'destroy':
          if (t?.info.id === id) this.drop(name, t, 'destroy');
          break;
      }
    };
    void this.enqueue(name, task).catch((err) => this.eventFailed(name, err));
  }

  private eventFailed(name: string, err: unknown): void {
    // Connection failures surface through the events stream; anything else is worth a line.
    if (statusCodeOf(err) !== undefined) this.log.warn({ container: name }, `could not update container ${name}: ${explainDockerError(err, this.host)}`);
  }

  /** Inspects one container and tracks, updates or drops it; attaches its log stream when it runs. */
  private async refresh(name: string, id: string, mode: SyncMode, emit?: 'start'): Promise<void> {
    if (!this.running) return;
    let insp: Docker.ContainerInspectInfo;
    try {
      insp = await this.docker.getContainer(id).inspect({ abortSignal: this.life.signal } as Docker.ContainerInspectOptions);
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        const t = this.tracked.get(name);
        if (t?.info.id === id) this.drop(name, t, 'destroy');
        return;
      }
      throw err;
    }
    if (!this.running) return;
    const current = insp.Name.replace(/^\//, '');
    const image = insp.Config?.Image ?? '';
    let t = this.tracked.get(name);
    if (current !== name || !this.roleFor(name, image)) {
      if (t?.info.id === id) this.drop(name, t);
      return;
    }
    const running = insp.State.Running && !insp.State.Paused;
    const startedAt = insp.State.StartedAt;
    let dieDetails: Partial<ContainerStateFinding> | undefined;
    if (!t || t.info.id !== insp.Id) {
      if (t) {
        this.log.info({ container: name, oldId: t.info.id.slice(0, 12), newId: insp.Id.slice(0, 12) }, `container ${name} was recreated; following the new one`);
        this.drop(name, t, undefined, true);
      } else {
        this.log.info({ container: name, role: this.roleFor(name, image), image }, `watching container ${name}`);
      }
      const info: WatchedContainer = { name, id: insp.Id, image, role: this.roleFor(name, image)!, running, startedAt };
      // A container already there when headwatch starts is read from now on; one that appears later is new,
      // so its whole log is new too.
      const startNs = mode === 'initial' ? nowNs(Date.now()) : 0n;
      const fresh: Tracked = { info, limit: cpuLimit(insp.HostConfig), follower: undefined as unknown as LogFollower, logRetries: 0, idleSkips: 0, tty: insp.Config?.Tty ?? false };
      fresh.follower = this.makeFollower(name, fresh, insp.Config?.Tty ?? false, startNs);
      this.tracked.set(name, fresh);
      t = fresh;
      if (mode === 'resync') emit = running ? 'start' : undefined;
      // Already stopped when headwatch starts (or when it comes back): that is a container down, with its exit.
      if (mode !== 'event' && !running) dieDetails = { initial: true };
    } else {
      if (mode === 'resync' && t.info.startedAt !== startedAt && running) emit = 'start';
      if (mode === 'resync' && t.info.running && !running) dieDetails = { initial: true };
      t.info = { ...t.info, image, running, startedAt };
      t.limit = cpuLimit(insp.HostConfig);
    }
    if (emit === 'start') this.emitState(t, 'start', startDetails(insp, t.info.role, mode !== 'event'));
    else if (emit) this.emitState(t, emit);
    if (dieDetails && !emit) {
      const lastLines = await lastLogLines(this.docker.getContainer(insp.Id), { tty: t.tty, n: LAST_LINES, signal: this.life.signal });
      this.emitState(t, 'die', { ...dieDetails, exitCode: insp.State.ExitCode, oomKilled: insp.State.OOMKilled === true, lastLines, restartPolicy: insp.HostConfig?.RestartPolicy?.Name || 'no' });
    }
    if (emit === 'start') {
      t.logRetries = 0;
      t.logRefused = false;
    }
    if (running) {
      t.cgroup = this.opts.cpuVia === 'api' ? undefined : CgroupCpu.locate(insp.State.Pid, insp.Id);
      await this.attachLogs(name, t);
      if (!t.prevCpu || t.prevCpu.id !== t.info.id) void this.sampleOne(t);
    } else {
      t.cgroup = undefined;
    }
  }

  private drop(name: string, t: Tracked, state?: 'destroy', replaced = false): void {
    clearTimeout(t.logRetryTimer);
    t.follower.finish();
    if (state) this.emitState(t, state);
    if (this.tracked.get(name) === t) this.tracked.delete(name);
    if (!replaced) {
      this.opts.metrics.containerCpu.remove({ container: name });
      this.log.info({ container: name }, `stopped watching container ${name}`);
    }
  }

  private emitState(t: Tracked, state: ContainerStateFinding['state'], details: Partial<ContainerStateFinding> = {}): void {
    const f: Finding = { kind: 'container-state', at: this.clock(), origin: t.info.name, state, containerId: t.info.id, role: t.info.role, image: t.info.image, ...details };
    this.safe('onFinding', () => this.opts.onFinding(f));
  }

  /** Runs tasks for one container name one after another, so events and resyncs never interleave. */
  private enqueue(name: string, task: () => Promise<void>): Promise<void> {
    const prev = this.queues.get(name) ?? Promise.resolve();
    const next = prev.then(task);
    const settled = next.catch(() => {});
    this.queues.set(name, settled);
    void settled.then(() => {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    });
    return next;
  }

  // --- logs ---------------------------------------------------------------------------------------------

  private makeFollower(name: string, t: Tracked, tty: boolean, startNs: bigint): LogFollower {
    return new LogFollower({
      container: this.docker.getContainer(t.info.id),
      tty,
      startNs,
      maxLineBytes: this.opts.maxLineBytes,
      onLine: (line) => {
        const at = this.clock();
        this.safe('onLine', () => this.opts.onLine(t.info, line, at));
      },
      onSkipped: (reason) => this.safe('onSkipped', () => this.opts.onSkipped(t.info, reason)),
      onEnd: (err) => this.onLogEnd(name, t, err),
    });
  }

  private async attachLogs(name: string, t: Tracked): Promise<void> {
    if (t.follower.attached || t.logRefused || !this.running) return;
    try {
      await t.follower.attach(this.life.signal);
    } catch (err) {
      if (!this.running) return;
      const code = statusCodeOf(err);
      if (code === 404) return; // gone; the destroy event follows
      if (code !== undefined) {
        // e.g. a logging driver that cannot be read back ("none", "syslog"): retrying will not help.
        t.logRefused = true;
        this.log.warn({ container: name }, `cannot read the logs of container ${name}: ${explainDockerError(err, this.host)}. Use the json-file, local or journald log driver so headwatch can follow it.`);
        return;
      }
      this.retryLogs(name, t);
    }
  }

  /** A log stream ended by itself: the container stopped, or the engine is going away. */
  private onLogEnd(name: string, t: Tracked, err?: unknown): void {
    if (!this.running || !this.connected || this.tracked.get(name) !== t) return;
    if (err) this.log.debug({ container: name, reason: explainDockerError(err, this.host) }, 'log stream failed');
    this.retryLogs(name, t);
  }

  /** Re-attaches after a pause if the container still runs (a stopped one is re-attached by its start event). */
  private retryLogs(name: string, t: Tracked): void {
    if (t.logRetryTimer || !this.running) return;
    const delay = Math.min(RETRY_CAP_MS, 200 * 2 ** t.logRetries);
    t.logRetries = Math.min(t.logRetries + 1, 16);
    t.logRetryTimer = setTimeout(() => {
      t.logRetryTimer = undefined;
      if (!this.running || !this.connected || this.tracked.get(name) !== t) return;
      void this.enqueue(name, () => this.refresh(name, t.info.id, 'event')).catch((err) => this.eventFailed(name, err));
    }, delay);
  }

  // --- CPU ----------------------------------------------------------------------------------------------

  private async sampleAll(): Promise<void> {
    if (this.sampling || !this.connected || !this.running) return;
    this.sampling = true;
    try {
      const all = [...this.tracked.values()].filter((t) => t.info.running);
      const local = all.filter((t) => t.cgroup);
      if (local.length > 0) {
        const host = hostCpu();
        for (const t of local) await this.sampleOne(t, host);
      }
      const every = Math.max(1, this.opts.idleSampleEvery ?? 3);
      const queue = all.filter((t) => {
        if (t.cgroup) return false;
        const idle = t.info.cpuPercent !== undefined && t.info.cpuPercent < IDLE_PERCENT;
        if (idle && t.idleSkips < every - 1) {
          t.idleSkips++;
          return false;
        }
        t.idleSkips = 0;
        return true;
      });
      const worker = async () => {
        for (let t = queue.shift(); t; t = queue.shift()) await this.sampleOne(t);
      };
      await Promise.all(Array.from({ length: SAMPLE_CONCURRENCY }, worker));
    } finally {
      this.sampling = false;
    }
  }

  /** Takes one reading; from the second reading of the same container on, emits a cpu-sample finding. */
  private async sampleOne(t: Tracked, host = t.cgroup ? hostCpu() : undefined): Promise<void> {
    const id = t.info.id;
    const name = t.info.name;
    let reading: CpuReading | undefined;
    let via: 'cgroup' | 'api' = 'api';
    if (t.cgroup && host) {
      reading = cgroupReading(t.cgroup, host, Date.now());
      if (reading) via = 'cgroup';
      else t.cgroup = undefined; // gone or moved: the API knows
    }
    if (!reading) {
      let stats: unknown;
      try {
        stats = await this.docker.getContainer(id).stats({
          stream: false,
          'one-shot': true,
          abortSignal: AbortSignal.any([this.life.signal, AbortSignal.timeout(Math.max(2_000, this.opts.cpuSampleMs))]),
        } as { stream?: false; 'one-shot'?: boolean });
      } catch (err) {
        if (this.running) this.log.debug({ container: name, reason: explainDockerError(err, this.host) }, 'CPU sample failed');
        return;
      }
      reading = readingFromStats(stats);
    }
    if (!this.running || this.tracked.get(name) !== t || t.info.id !== id || !reading) return;
    const prev = t.prevCpu;
    t.prevCpu = { ...reading, id, via };
    if (!prev || prev.id !== id || prev.via !== via) return;
    const cpu = cpuPercent(prev, reading, t.limit);
    if (!cpu) return;
    t.info = { ...t.info, cpuPercent: cpu.percent };
    this.opts.metrics.containerCpu.set({ container: name }, cpu.percent);
    this.opts.metrics.cpuSamples.inc({ container: name });
    const f: Finding = { kind: 'cpu-sample', at: this.clock(), origin: name, percent: cpu.percent, cpus: cpu.cpus, ...(t.limit ? { limit: t.limit } : {}) };
    this.safe('onFinding', () => this.opts.onFinding(f));
  }

  // --- helpers ------------------------------------------------------------------------------------------

  private containerError(name: string, what: string, err: unknown): string {
    const code = statusCodeOf(err);
    if (code === 404) return `cannot ${what} container ${name}: there is no container named "${name}" on ${this.host}`;
    if (code === 409) return `cannot ${what} container ${name}: it is not running (start it first)`;
    return `cannot ${what} container ${name}: ${explainDockerError(err, this.host)}`;
  }

  /** Callbacks belong to other components; their bugs must not stop the watcher. */
  private safe(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log.error({ err }, `${what} handler threw; the Docker source carries on`);
    }
  }
}

interface DockerEvent {
  status?: string;
  id?: string;
  from?: string;
  Type?: string;
  Action?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
  time?: number;
  timeNano?: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** What a start tells the lifecycle detector: restart count and policy, and the Tailscale auth-key settings. */
function startDetails(insp: Docker.ContainerInspectInfo, role: ContainerRole, initial: boolean): Partial<ContainerStateFinding> {
  const details: Partial<ContainerStateFinding> = {
    restartCount: insp.RestartCount ?? 0,
    restartPolicy: insp.HostConfig?.RestartPolicy?.Name || 'no',
    ...(initial ? { initial: true } : {}),
  };
  if (role !== 'tailscale') return details;
  // Only whether they are set: the key itself never leaves the container's environment.
  const env = new Map((insp.Config?.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const key = env.get('TS_AUTHKEY') || env.get('TS_AUTH_KEY');
  const once = (env.get('TS_AUTH_ONCE') ?? '').toLowerCase() === 'true';
  return { ...details, authKey: !key ? 'unset' : once ? 'set-with-auth-once' : 'set-without-auth-once' };
}
