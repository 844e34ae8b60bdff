import { setMaxListeners } from 'node:events';
import type Docker from 'dockerode';
import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { DockerHostSetting } from '../../config/docker-hosts.js';
import { describeHost, dockerClient, explainDockerError } from './host.js';

export interface DockerStatus {
  reachable: boolean;
  error?: string;
  /** When the current state began (clock ms). */
  since: number;
}

export interface EngineHooks {
  /**
   * After a successful ping: open the events stream and read the container list for connection `gen`.
   * Throwing counts as a failed attempt (retried with backoff).
   */
  connected(gen: number): Promise<void>;
  /** The connection was fully set up (called once per successful connect). */
  ready(): void;
  /** The connection is gone (or never came up): close what streams from it. */
  disconnected(): void;
  /** For the "reachable" log line: what is being watched. */
  describe(): { watching: string[]; cpuFromCgroup: number };
  onStatus(s: DockerStatus): void;
}

const RETRY_BASE_MS = 250;
export const RETRY_CAP_MS = 10_000;
const PING_TIMEOUT_MS = 5_000;
/** A connection that lived this long counts as healthy: the next loss starts the backoff from scratch. */
const STABLE_MS = 10_000;

/**
 * The connection to one Docker engine: ping, then the hooks' setup, retried with jittered exponential backoff
 * while the engine is absent; reachability reported once per change. Every connect attempt and every loss
 * starts a new generation (`gen`), so callbacks of an older connection can recognise and ignore themselves.
 */
export class EngineConnection {
  readonly docker: Docker;
  /** DOCKER_HOST in words, for messages (with several hosts: its name and where it is). */
  readonly host: string;
  /** The host's name (`local` for DOCKER_HOST). */
  readonly hostName: string;
  private state: DockerStatus;
  /** Whether onStatus has been told anything yet. */
  private reported = false;
  private runningNow = false;
  private life = new AbortController();
  private gen = 0;
  private connectedNow = false;
  private connectedAt = 0;
  private attempt = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private hooks: EngineHooks | undefined;
  private readonly several: boolean;

  constructor(
    target: string | undefined | (DockerHostSetting & { several: boolean }),
    private readonly log: Logger,
    private readonly metrics: Metrics,
    private readonly clock: () => number,
  ) {
    const setting = typeof target === 'object' ? target : { name: 'local', url: target, several: false };
    this.docker = dockerClient(setting.url, setting.tls, setting.knownHosts);
    this.hostName = setting.name;
    this.several = setting.several;
    this.host = setting.several ? `${setting.name} (${describeHost(setting.url)})` : describeHost(setting.url);
    this.state = { reachable: false, error: 'not connected yet', since: clock() };
  }

  get running(): boolean {
    return this.runningNow;
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  /** Aborted on stop: every request and stream of the source listens to it. */
  get signal(): AbortSignal {
    return this.life.signal;
  }

  /** True while `gen` is the current connection (and the source runs). */
  current(gen: number): boolean {
    return gen === this.gen && this.runningNow;
  }

  generation(): number {
    return this.gen;
  }

  /** Starts connecting; resolves after the first attempt or a few seconds, whichever is first. */
  async start(hooks: EngineHooks): Promise<void> {
    this.hooks = hooks;
    this.runningNow = true;
    this.life = new AbortController();
    // One listener per open request (each log stream holds one for its lifetime): not a leak.
    setMaxListeners(0, this.life.signal);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.connect(),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, PING_TIMEOUT_MS + 1_000);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Stops retrying and aborts every request; the caller then closes its streams. */
  stop(): void {
    this.runningNow = false;
    this.connectedNow = false;
    this.gen++;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.life.abort();
  }

  status(): DockerStatus {
    return { ...this.state };
  }

  /** The events stream of connection `gen` ended: the engine went away or restarted. Reconnect, then resync. */
  lost(gen: number, err?: unknown): void {
    if (!this.current(gen)) return;
    this.gen++;
    if (this.connectedNow && Date.now() - this.connectedAt > STABLE_MS) this.attempt = 0;
    this.connectedNow = false;
    this.hooks?.disconnected();
    this.log.debug({ reason: err ? explainDockerError(err, this.host) : 'stream ended' }, 'Docker events stream closed; reconnecting');
    this.scheduleRetry();
  }

  private async connect(): Promise<void> {
    if (!this.runningNow || !this.hooks) return;
    const gen = ++this.gen;
    try {
      // dockerode's ping takes an abort signal at runtime; its typings do not say so.
      const ping = this.docker.ping.bind(this.docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
      await ping({ abortSignal: AbortSignal.any([this.life.signal, AbortSignal.timeout(PING_TIMEOUT_MS)]) });
      if (gen !== this.gen) return;
      await this.hooks.connected(gen);
      if (!this.current(gen)) return;
      this.connectedNow = true;
      this.connectedAt = Date.now();
      this.hooks.ready();
      this.setReachable(true);
    } catch (err) {
      if (!this.current(gen)) return;
      this.gen++;
      this.connectedNow = false;
      this.hooks.disconnected();
      this.setReachable(false, explainDockerError(err, this.host));
      this.scheduleRetry();
    }
  }

  private scheduleRetry(): void {
    if (!this.runningNow || this.retryTimer) return;
    const ceiling = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = ceiling / 2 + (Math.random() * ceiling) / 2;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private setReachable(reachable: boolean, error?: string): void {
    this.metrics.dockerHostUp.set({ host: this.hostName }, reachable ? 1 : 0);
    // With several hosts the aggregate is every host's (DockerHosts).
    if (!this.several) this.metrics.up.set({ dependency: 'docker' }, reachable ? 1 : 0);
    const changed = !this.reported || this.state.reachable !== reachable;
    this.state = reachable ? { reachable, since: changed ? this.clock() : this.state.since } : { reachable, error, since: changed ? this.clock() : this.state.since };
    if (!changed) return;
    this.reported = true;
    if (reachable) {
      const { watching, cpuFromCgroup } = this.hooks!.describe();
      this.log.info({ host: this.host, watching, cpuFromCgroup }, `Docker engine reachable at ${this.host}; watching ${watching.length} container(s)`);
    } else {
      this.log.warn(
        { host: this.host },
        `Docker engine unreachable: ${error}. headwatch keeps retrying (at most every ${RETRY_CAP_MS / 1000} s); container logs and CPU are not watched meanwhile.`,
      );
    }
    safely(this.log, 'onStatus', () => this.hooks!.onStatus(this.status()));
  }
}

/** Callbacks belong to other components; their bugs must not stop the watcher. */
export function safely(log: Logger, what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    log.error({ err }, `${what} handler threw; the Docker source carries on`);
  }
}
