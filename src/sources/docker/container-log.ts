import type Docker from 'dockerode';
import type { Logger } from '../../log/logger.js';
import type { SkipReason } from './lines.js';
import { explainDockerError, statusCodeOf } from './host.js';
import { RETRY_CAP_MS } from './engine.js';
import { LogFollower } from './logs.js';

export interface ContainerLogOptions {
  name: string;
  container: Docker.Container;
  tty: boolean;
  /** Where to start reading (ns since the epoch; 0n = the whole log). */
  startNs: bigint;
  /** Messages at `startNs` already processed (a resumed cursor). */
  seenAtStart?: number;
  maxLineBytes?: number;
  /** `atNs`: the engine's timestamp of the line (undefined if it had none). */
  onLine(line: string, atNs: bigint | undefined): void;
  onSkipped(reason: SkipReason): void;
  /** DOCKER_HOST in words, for messages. */
  host: string;
  log: Logger;
  /** The source runs. */
  running(): boolean;
  /** The source runs, the engine is connected and this container is still the one watched under its name. */
  wanted(): boolean;
  /** Re-inspects the container, which re-attaches its log if it still runs. */
  refresh(): void;
}

/**
 * One watched container's log stream over its lifetime: attaching the follower, re-attaching with backoff
 * when the stream ends on its own, and giving up for good on a log driver that cannot be read back.
 */
export class ContainerLog {
  readonly follower: LogFollower;
  private retries = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private refused = false;

  constructor(private readonly o: ContainerLogOptions) {
    this.follower = new LogFollower({
      container: o.container,
      tty: o.tty,
      startNs: o.startNs,
      seenAtStart: o.seenAtStart,
      maxLineBytes: o.maxLineBytes,
      onLine: (line, _stream, atNs) => o.onLine(line, atNs),
      onSkipped: (reason) => o.onSkipped(reason),
      onEnd: (err) => this.ended(err),
    });
  }

  /** The container (re)started: a log that was refused or failing gets a fresh chance. */
  restarted(): void {
    this.retries = 0;
    this.refused = false;
  }

  async attach(signal: AbortSignal): Promise<void> {
    if (this.follower.attached || this.refused || !this.o.running()) return;
    try {
      await this.follower.attach(signal);
    } catch (err) {
      if (!this.o.running()) return;
      const code = statusCodeOf(err);
      if (code === 404) return; // gone; the destroy event follows
      if (code !== undefined) {
        // e.g. a logging driver that cannot be read back ("none", "syslog"): retrying will not help.
        this.refused = true;
        this.o.log.warn(
          { container: this.o.name },
          `cannot read the logs of container ${this.o.name}: ${explainDockerError(err, this.o.host)}. Use the json-file, local or journald log driver so headwatch can follow it.`,
        );
        return;
      }
      this.retry();
    }
  }

  /** Closes the stream; position and partial lines are kept for the next attach. */
  detach(): void {
    this.follower.detach();
  }

  /** The source stops: no retry, stream closed. */
  stop(): void {
    clearTimeout(this.retryTimer);
    this.follower.detach();
  }

  /** Closes for good (the container is no longer watched). */
  finish(): void {
    clearTimeout(this.retryTimer);
    this.follower.finish();
  }

  /** The stream ended by itself: the container stopped, or the engine is going away. */
  private ended(err?: unknown): void {
    if (!this.o.wanted()) return;
    if (err) this.o.log.debug({ container: this.o.name, reason: explainDockerError(err, this.o.host) }, 'log stream failed');
    this.retry();
  }

  /** Re-attaches after a pause if the container still runs (a stopped one is re-attached by its start event). */
  private retry(): void {
    if (this.retryTimer || !this.o.running()) return;
    const delay = Math.min(RETRY_CAP_MS, 200 * 2 ** this.retries);
    this.retries = Math.min(this.retries + 1, 16);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.o.wanted()) this.o.refresh();
    }, delay);
  }
}
