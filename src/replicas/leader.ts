import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Store } from '../store/db.js';
import { LeaseRepository, type LeaseRow } from '../store/lease.js';

export type Role = 'leader' | 'standby';

export interface LeaderElectionOptions {
  store: Store;
  logger: Logger;
  /** How long a lease lasts without renewal; a standby takes over at most this long (plus one poll) after the leader stops renewing. */
  ttlMs: number;
  /** How often the leader renews and a standby tries to take over. */
  renewMs: number;
  /** Called once, when this replica becomes the leader (start watching, dispatching, chat). */
  onElected(lease: LeaseRow): Promise<void> | void;
  /**
   * Called once, when this leader has lost the lease (another took it, or it could not renew in time). It must
   * stop sending at once; main.ts ends the process, and its supervisor starts it again as a standby.
   */
  onDeposed(reason: string): void;
  onRole?(role: Role): void;
}

/**
 * One replica's side of the leader lease (src/store/lease.ts). The lease lives in PostgreSQL with an expiry on
 * the server's clock; this replica's own view of "I still hold it" is a monotonic deadline, taken from the
 * moment a renewal was *sent* plus the TTL, less a margin: whatever happens after (a pause, a slow answer, a lost
 * connection), this replica stops counting itself leader before the server lets anyone else take over. The
 * outbox claim checks the lease in the same statement (fencing), so a deposed leader that has not noticed yet
 * still sends nothing new.
 */
export class LeaderElection {
  readonly holder = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private readonly lease: LeaseRepository;
  private role: Role = 'standby';
  private epoch = 0;
  /** performance.now() until which this replica's lease surely holds. */
  private deadline = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private deposed = false;

  constructor(private readonly o: LeaderElectionOptions) {
    this.lease = new LeaseRepository(o.store);
  }

  get currentRole(): Role {
    return this.role;
  }

  get currentEpoch(): number {
    return this.epoch;
  }

  /** True only while this replica is leader and its lease surely holds (checked before anything is sent). */
  holds(): boolean {
    return this.role === 'leader' && performance.now() < this.deadline;
  }

  start(): void {
    this.schedule(0);
  }

  /** A clean stop gives the lease back, so a standby takes over at its next poll instead of after the TTL. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.role === 'leader' && !this.deposed) {
      try {
        this.lease.release(this.holder, this.epoch);
      } catch {
        // the lease runs out by itself
      }
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), ms);
  }

  private async tick(): Promise<void> {
    if (this.stopped || this.deposed) return;
    const margin = Math.min(1000, this.o.ttlMs / 5);
    const sentAt = performance.now();
    if (this.role === 'leader') {
      // Checked before the renewal too: after a long pause (SIGSTOP) the deadline may have passed already.
      if (sentAt >= this.deadline) return this.depose('the lease ran out before it could be renewed (process paused or database slow)');
      let r: LeaseRow | undefined;
      try {
        r = this.lease.renew(this.holder, this.epoch, this.o.ttlMs);
      } catch (err) {
        if (performance.now() >= this.deadline) return this.depose(`cannot renew the lease: ${(err as Error).message}`);
        this.o.logger.warn({ err: (err as Error).message }, 'leader lease renewal failed; retrying');
        return this.schedule(Math.min(this.o.renewMs, 1000));
      }
      if (!r) return this.depose('another replica holds the lease now');
      this.deadline = sentAt + this.o.ttlMs - margin;
      return this.schedule(this.o.renewMs);
    }
    let r: LeaseRow | undefined;
    try {
      r = this.lease.acquire(this.holder, this.o.ttlMs);
    } catch (err) {
      this.o.logger.warn({ err: (err as Error).message }, 'cannot reach the database to check the leader lease; still standby');
      return this.schedule(this.o.renewMs);
    }
    if (!r) return this.schedule(this.o.renewMs);
    this.role = 'leader';
    this.epoch = r.epoch;
    this.deadline = sentAt + this.o.ttlMs - margin;
    this.o.store.fence = { holder: this.holder, epoch: r.epoch };
    // From now on a statement is refused once the lease may have run out, until this process has left. The
    // refusal also deposes this replica at once: after a pause (SIGSTOP) whichever timer fires first meets the
    // guard, and the lease's own tick may not be that one; the process must leave as deposed (exit 75, restarted
    // as a standby), not fail on the refused statement in some other part.
    this.o.store.setGuard(() => {
      if (this.role === 'leader' && !this.holds()) {
        this.depose('the lease ran out before it could be renewed (process paused or database slow)');
        throw new Error('this replica may no longer hold the leader lease: nothing is written');
      }
    });
    this.o.logger.info({ holder: this.holder, epoch: r.epoch }, 'this replica is the leader now');
    this.o.onRole?.('leader');
    this.schedule(this.o.renewMs);
    try {
      await this.o.onElected(r);
    } catch (err) {
      this.depose(`could not start as leader: ${(err as Error).message}`);
    }
  }

  private depose(reason: string): void {
    if (this.deposed) return;
    this.deposed = true;
    this.role = 'standby';
    // A deposed leader writes nothing more (it is about to exit; the new leader owns the state now).
    this.o.store.setGuard(() => {
      throw new Error('this replica lost the leader lease: nothing is written');
    });
    if (this.timer) clearTimeout(this.timer);
    this.o.logger.error({ holder: this.holder, epoch: this.epoch }, `no longer the leader: ${reason}`);
    this.o.onRole?.('standby');
    this.o.onDeposed(reason);
  }
}
