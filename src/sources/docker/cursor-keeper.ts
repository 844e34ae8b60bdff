import type { Logger } from '../../log/logger.js';
import type { LogPosition } from '../../store/log-cursors.js';
import type { ReadPosition } from './discovery.js';

export interface LogCursorKeeperOptions {
  /** The Docker host's name (`local` for DOCKER_HOST). */
  host: string;
  source: { positions(): ReadPosition[] };
  /** The store's log cursors (src/store/log-cursors.ts); false = the lease no longer holds, nothing written. */
  cursors: { save(positions: readonly LogPosition[], now: number): boolean };
  /** How often positions that moved are written (one transaction for all of them). */
  everyMs: number;
  logger: Logger;
  clock?: () => number;
}

/**
 * Writes the log cursor — how far each watched container's log has been read — batched: every `everyMs`, only the
 * containers whose position moved, in one transaction, never a write per line. Also flushed when the detectors'
 * state is saved and at a clean stop, so a restart resumes exactly after the last line processed. After a crash
 * at most `everyMs` of lines is read a second time; a duplicate finding of an alert already firing is an update,
 * never a second announcement (src/alerts/lifecycle.ts).
 */
export class LogCursorKeeper {
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private refused = false;
  private readonly clock: () => number;

  constructor(private readonly o: LogCursorKeeperOptions) {
    this.clock = o.clock ?? Date.now;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.flush(), this.o.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Writes every position that moved since it was last written. */
  flush(): void {
    const moved: LogPosition[] = [];
    const marks: [string, string][] = [];
    for (const p of this.o.source.positions()) {
      const mark = `${p.containerId}@${p.ns}+${p.seenAtNs}`;
      if (this.written.get(p.container) === mark) continue;
      moved.push({ host: this.o.host, ...p });
      marks.push([p.container, mark]);
    }
    if (moved.length === 0) return;
    try {
      if (!this.o.cursors.save(moved, this.clock())) {
        if (!this.refused) this.o.logger.warn({ host: this.o.host }, 'log cursor not written: this replica no longer holds the leader lease');
        this.refused = true;
        return;
      }
    } catch (err) {
      this.o.logger.warn({ host: this.o.host, err: (err as Error).message }, 'could not write the log cursor; retrying at the next flush');
      return;
    }
    for (const [k, v] of marks) this.written.set(k, v);
  }
}
