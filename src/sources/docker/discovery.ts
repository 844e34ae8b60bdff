import type Docker from 'dockerode';
import type { Logger } from '../../log/logger.js';
import type { ContainerStateFinding, Finding } from '../../parsers/finding.js';
import { ContainerLog } from './container-log.js';
import { cpuLimit } from './cpu.js';
import type { CpuSampler, CpuTrack } from './cpu-sampler.js';
import { safely, type EngineConnection } from './engine.js';
import type { DockerEvent } from './events.js';
import { explainDockerError, statusCodeOf } from './host.js';
import { absentNames, inventoryFinding, LAST_LINES, startDetails, type ExpectedContainer } from './lifecycle.js';
import type { ResumePoint } from './resume.js';
import { lastLogLines } from './tail.js';
import { qualifiedName, settingMatches, splitContainerRef } from './names.js';
import type { ContainerRole, WatchedContainer } from './types.js';

/** A watched container: what is known about it, its log stream and its CPU readings. */
export interface Tracked {
  /** Replaced (never mutated) on every change, so callers may keep the object they were handed. */
  info: WatchedContainer;
  log: ContainerLog;
  cpu: CpuTrack;
  tty: boolean;
  /** An `oom` event arrived: the `die` that follows was the kernel's OOM killer. */
  oomSeen?: boolean;
}

export interface DiscoveryOptions {
  engine: EngineConnection;
  cpu: CpuSampler;
  /** The host's name (HEADWATCH_DOCKER_HOSTS, `local` for DOCKER_HOST). */
  hostName: string;
  /**
   * Every watched host's name. With more than one, containers are named `host/container` and a plain container
   * name means that name on any of them.
   */
  allHosts: string[];
  /** HEADSCALE_CONTAINER: the container with role `headscale` (`host/container`, or plain for any host). */
  headscaleContainer: string;
  /** TAILSCALE_CONTAINERS (each `host/container` or plain); unset = every container whose image name contains "tailscale". */
  tailscaleContainers?: string[];
  maxLineBytes?: number;
  log: Logger;
  clock: () => number;
  onLine: (c: WatchedContainer, line: string, at: number) => void;
  onSkipped: (c: WatchedContainer, reason: string) => void;
  onFinding: (f: Finding) => void;
  /**
   * Where the log of a container found at start is read from (default: now); see resume.ts. `startedAtMs` is the
   * engine's State.StartedAt (undefined when it never ran), so a container that came up while the engine was being
   * listed is read from its start.
   */
  resume: (name: string, id: string, startedAtMs: number | undefined) => ResumePoint;
}

/** How far one watched container's log has been read (the cursor to store). */
export interface ReadPosition {
  container: string;
  containerId: string;
  ns: bigint;
  seenAtNs: number;
}

type SyncMode = 'initial' | 'resync' | 'event';

/**
 * Which containers are watched and their state: the container list read on every (re)connect, kept up to
 * date by the engine's events. Work for one container name runs in order (a queue per name), so events and
 * resyncs never interleave; a container that runs has its log attached and its CPU sampled.
 */
export class Discovery {
  readonly tracked = new Map<string, Tracked>();
  /** Where each log stood when the source stopped, for the cursor's last write. */
  private stoppedAt: ReadPosition[] | undefined;
  private readonly queues = new Map<string, Promise<void>>();
  private initialSyncDone = false;

  /** Several hosts are watched: containers are named `host/container`. */
  private readonly severalHosts: boolean;

  constructor(private readonly o: DiscoveryOptions) {
    this.severalHosts = o.allHosts.length > 1;
  }

  /** The first complete sync is done: from now on containers that appear are new, and read from their first line. */
  synced(): void {
    this.initialSyncDone = true;
  }

  /** Where each watched container's log stands now (after stop: where each stood when its stream was closed). */
  positions(): ReadPosition[] {
    if (this.stoppedAt) return this.stoppedAt;
    // Keyed by the name on this host (the cursor's key is host name + that name).
    return [...this.tracked.values()].map((t) => ({ container: t.info.nameOnHost ?? t.info.name, containerId: t.info.id, ns: t.log.follower.cursor.ns, seenAtNs: t.log.follower.cursor.seenAtNs }));
  }

  /** Closes every log stream (the connection is gone); position is kept for the re-attach. */
  detachAll(): void {
    for (const t of this.tracked.values()) t.log.detach();
  }

  /** Forgets every container and lets queued work finish (it sees the source stopped). */
  async stop(): Promise<void> {
    for (const t of this.tracked.values()) t.log.stop();
    this.stoppedAt = this.positions();
    this.tracked.clear();
    await Promise.allSettled([...this.queues.values()]);
  }

  private roleFor(name: string | undefined, image: string | undefined): ContainerRole | undefined {
    if (!name) return undefined;
    const host = this.o.hostName;
    if (settingMatches(this.o.headscaleContainer, host, name)) return 'headscale';
    if (this.o.tailscaleContainers) return this.o.tailscaleContainers.some((e) => settingMatches(e, host, name)) ? 'tailscale' : undefined;
    return image?.toLowerCase().includes('tailscale') ? 'tailscale' : undefined;
  }

  /** Reads the container list and brings every watched container (and its log stream) up to date. */
  async sync(gen: number): Promise<void> {
    const { engine } = this.o;
    const mode: SyncMode = this.initialSyncDone ? 'resync' : 'initial';
    this.stoppedAt = undefined;
    const list = await engine.docker.listContainers({ all: true, abortSignal: engine.signal } as Docker.ContainerListOptions);
    if (gen !== engine.generation()) return;
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
    if (!engine.current(gen)) return;
    this.emitInventory(list, mode === 'initial');
  }

  /** What the engine has, against what headwatch looks for by name: the container-missing detector's input. */
  private emitInventory(list: Docker.ContainerInfo[], initial: boolean): void {
    const { engine, log, hostName } = this.o;
    const severalHosts = this.severalHosts;
    // With several hosts only a `host/container` entry says which engine must have it; a plain name means any
    // host, so no single engine's list can tell it is missing: those go along as `anyHost`, and the detector
    // weighs every host's list.
    const configured = [
      { name: this.o.headscaleContainer, role: 'headscale' as const },
      ...(this.o.tailscaleContainers ?? []).map((name) => ({ name, role: 'tailscale' as const })),
    ].map((e) => ({ ref: splitContainerRef(e.name), role: e.role }));
    const expected: ExpectedContainer[] = configured.flatMap(({ ref, role }) =>
      (ref.host !== undefined ? ref.host !== hostName : severalHosts) ? [] : [{ name: ref.container, role }],
    );
    const anyHost: ExpectedContainer[] = severalHosts ? configured.filter(({ ref }) => ref.host === undefined).map(({ ref, role }) => ({ name: ref.container, role })) : [];
    if (initial) {
      for (const e of absentNames(list, expected)) {
        const setting = e.role === 'headscale' ? 'HEADSCALE_CONTAINER' : 'TAILSCALE_CONTAINERS';
        log.warn({ container: e.name, host: engine.host }, `no container named "${e.name}" (${setting}) on ${engine.host}; container-missing fires unless it appears`);
      }
    }
    const named = (n: string) => qualifiedName(hostName, n, severalHosts);
    const several = severalHosts ? { hostName, named, anyHost, hosts: this.o.allHosts } : undefined;
    const f = inventoryFinding(list, expected, engine.host, this.o.clock(), initial, several);
    safely(log, 'onFinding', () => this.o.onFinding(f));
  }

  onEvent(ev: DockerEvent): void {
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
          if (t?.info.id === id) await this.died(t, id, attrs.exitCode, ev.timeNano ? Math.ceil(ev.timeNano / 1e9) : ev.time);
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

  /** A `die` event: the exit code, whether the OOM killer did it, the last log lines and the restart policy now. */
  private async died(t: Tracked, id: string, exitAttr: string | undefined, untilSec: number | undefined): Promise<void> {
    const { engine } = this.o;
    t.info = { ...t.info, running: false };
    const exitCode = Number(exitAttr);
    const lastLines = await lastLogLines(engine.docker.getContainer(id), { tty: t.tty, n: LAST_LINES, untilSec, signal: engine.signal });
    // The policy now (it may have been changed since the start): whether the engine will bring it back.
    const policy = await engine.docker
      .getContainer(id)
      .inspect({ abortSignal: engine.signal } as Docker.ContainerInspectOptions)
      .then((i) => i.HostConfig?.RestartPolicy?.Name || 'no')
      .catch(() => undefined);
    this.emitState(t, 'die', {
      ...(Number.isFinite(exitCode) && exitAttr !== undefined ? { exitCode } : {}),
      oomKilled: t.oomSeen === true,
      lastLines,
      ...(policy ? { restartPolicy: policy } : {}),
    });
    t.oomSeen = false;
  }

  private eventFailed(name: string, err: unknown): void {
    // Connection failures surface through the events stream; anything else is worth a line.
    if (statusCodeOf(err) !== undefined) this.o.log.warn({ container: name }, `could not update container ${name}: ${explainDockerError(err, this.o.engine.host)}`);
  }

  /** Inspects one container and tracks, updates or drops it; attaches its log stream when it runs. */
  private async refresh(name: string, id: string, mode: SyncMode, emit?: 'start'): Promise<void> {
    const { engine } = this.o;
    if (!engine.running) return;
    let insp: Docker.ContainerInspectInfo;
    try {
      insp = await engine.docker.getContainer(id).inspect({ abortSignal: engine.signal } as Docker.ContainerInspectOptions);
    } catch (err) {
      if (statusCodeOf(err) === 404) {
        const t = this.tracked.get(name);
        if (t?.info.id === id) this.drop(name, t, 'destroy');
        return;
      }
      throw err;
    }
    if (!engine.running) return;
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
        this.o.log.info({ container: name, oldId: t.info.id.slice(0, 12), newId: insp.Id.slice(0, 12) }, `container ${name} was recreated; following the new one`);
        this.drop(name, t, undefined, true);
      } else {
        this.o.log.info({ container: name, role: this.roleFor(name, image), image }, `watching container ${name}`);
      }
      const info: WatchedContainer = {
        name: qualifiedName(this.o.hostName, name, this.severalHosts),
        host: this.o.hostName,
        ...(this.severalHosts ? { nameOnHost: name } : {}),
        id: insp.Id,
        image,
        role: this.roleFor(name, image)!,
        running,
        startedAt,
      };
      // A container already there when headwatch starts is read from where its log was left (a stored cursor,
      // else from now); one that appears later is new, so its whole log is new too.
      const started = Date.parse(startedAt ?? '');
      const start: ResumePoint =
        mode === 'initial' ? this.o.resume(name, insp.Id, Number.isFinite(started) && started > 0 ? started : undefined) : { startNs: 0n, seenAtStart: 0 };
      if (start.note) this.o.log.info({ container: name }, `container ${name}: ${start.note}`);
      t = this.track(name, info, insp.Config?.Tty ?? false, start);
      t.cpu.limit = cpuLimit(insp.HostConfig);
      if (mode === 'resync') emit = running ? 'start' : undefined;
      // Already stopped when headwatch starts (or when it comes back): that is a container down, with its exit.
      if (mode !== 'event' && !running) dieDetails = { initial: true };
    } else {
      if (mode === 'resync' && t.info.startedAt !== startedAt && running) emit = 'start';
      if (mode === 'resync' && t.info.running && !running) dieDetails = { initial: true };
      t.info = { ...t.info, image, running, startedAt };
      t.cpu.limit = cpuLimit(insp.HostConfig);
    }
    if (emit === 'start') this.emitState(t, 'start', startDetails(insp, t.info.role, mode !== 'event'));
    if (dieDetails && !emit) {
      const lastLines = await lastLogLines(engine.docker.getContainer(insp.Id), { tty: t.tty, n: LAST_LINES, signal: engine.signal });
      this.emitState(t, 'die', { ...dieDetails, exitCode: insp.State.ExitCode, oomKilled: insp.State.OOMKilled === true, lastLines, restartPolicy: insp.HostConfig?.RestartPolicy?.Name || 'no' });
    }
    if (emit === 'start') t.log.restarted();
    if (running) {
      this.o.cpu.locate(t, insp.State.Pid, insp.Id);
      await t.log.attach(engine.signal);
      this.o.cpu.first(t);
    } else {
      this.o.cpu.stopped(t);
    }
  }

  /** Starts watching a container: its log (from `start`) and an empty CPU record. */
  private track(name: string, info: WatchedContainer, tty: boolean, start: ResumePoint): Tracked {
    const { engine, log } = this.o;
    const t: Tracked = { info, cpu: { idleSkips: 0 }, log: undefined as unknown as ContainerLog, tty };
    t.log = new ContainerLog({
      name,
      container: engine.docker.getContainer(info.id),
      tty,
      startNs: start.startNs,
      seenAtStart: start.seenAtStart,
      maxLineBytes: this.o.maxLineBytes,
      onLine: (line, atNs) => {
        // The line's own time (the engine's stamp), so lines read late — a restart's or a takeover's catch-up —
        // fall into the detectors' windows where they happened; never later than now.
        const now = this.o.clock();
        const at = atNs === undefined ? now : Math.min(now, Number(atNs / 1_000_000n));
        safely(log, 'onLine', () => this.o.onLine(t.info, line, at));
      },
      onSkipped: (reason) => safely(log, 'onSkipped', () => this.o.onSkipped(t.info, reason)),
      host: engine.host,
      log,
      running: () => engine.running,
      wanted: () => engine.running && engine.connected && this.tracked.get(name) === t,
      refresh: () => void this.enqueue(name, () => this.refresh(name, t.info.id, 'event')).catch((err) => this.eventFailed(name, err)),
    });
    this.tracked.set(name, t);
    return t;
  }

  private drop(name: string, t: Tracked, state?: 'destroy', replaced = false): void {
    t.log.finish();
    if (state) this.emitState(t, state);
    if (this.tracked.get(name) === t) this.tracked.delete(name);
    if (!replaced) {
      this.o.cpu.forget(t.info.name);
      this.o.log.info({ container: name }, `stopped watching container ${name}`);
    }
  }

  private emitState(t: Tracked, state: ContainerStateFinding['state'], details: Partial<ContainerStateFinding> = {}): void {
    const f: Finding = { kind: 'container-state', at: this.o.clock(), origin: t.info.name, state, containerId: t.info.id, role: t.info.role, image: t.info.image, ...details };
    safely(this.o.log, 'onFinding', () => this.o.onFinding(f));
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
}
