import type { Logger } from 'pino';
import type { Alert } from '../alerts/model.js';
import type { MessageRef } from '../adapters/chat.js';
import type { Delivery, Notified } from '../destinations/destination.js';
import type { Message } from '../messages/model.js';
import type { Metrics } from '../http/metrics.js';
import type { Deliveries, DeliveryRef } from '../store/deliveries.js';
import type { Outbox, OutboxRow } from '../store/outbox.js';
import type { LaneTarget } from './lanes.js';

/**
 * Drains the outbox: per lane strictly in order (only a lane's oldest pending row is ever attempted), lanes
 * in parallel. Each attempt is one `Destination.notify`; this decides what happens after a failure: retry with
 * exponential backoff or the platform's Retry-After, or give up on answers that say retrying cannot help, or
 * after MAX_AGE_MS.
 */
export const BACKOFF_BASE_MS = 1000;
/** Longest wait between two attempts of a lane, so a recovered destination is found within seconds. */
export const BACKOFF_MAX_MS = 30_000;
/**
 * Longest wait while the lane's chat platform is disconnected: each retry is then also the probe that notices the
 * platform answering again (HTTP-mode Slack has no connection that could say so), and it is one request per lane.
 */
export const DOWN_BACKOFF_MAX_MS = 5_000;
export const MAX_AGE_MS = 24 * 3_600_000;

export function backoffMs(attempts: number, maxMs = BACKOFF_MAX_MS): number {
  return Math.min(maxMs, BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
}

export class DeliveryRunner {
  private readonly busy = new Map<string, Promise<void>>();
  /** Consecutive failures per lane, for the platform-health view. */
  readonly failing = new Map<string, { since: number; error: string }>();

  constructor(
    private readonly o: {
      outbox: Outbox;
      deliveries: Deliveries;
      targets: ReadonlyMap<string, LaneTarget>;
      clock: () => number;
      logger: Logger;
      metrics?: Metrics;
    },
  ) {}

  /** Starts an attempt for every lane whose head row is due and not already in flight. */
  kick(): number {
    const now = this.o.clock();
    let started = 0;
    for (const row of this.o.outbox.heads()) {
      if (this.busy.has(row.lane) || row.nextAt > now) continue;
      const p = this.attempt(row).finally(() => this.busy.delete(row.lane));
      this.busy.set(row.lane, p);
      started++;
    }
    return started;
  }

  /** Delivers everything that is due now (and what becomes due as earlier rows of a lane complete). */
  async drain(): Promise<void> {
    for (;;) {
      this.kick();
      if (this.busy.size === 0) return;
      await Promise.all([...this.busy.values()]);
    }
  }

  /**
   * The destination reconnected or answered again: its waiting lanes are due now (a Retry-After still holds).
   * Returns how many rows were woken.
   */
  wakeDestination(name: string, except?: string): number {
    const now = this.o.clock();
    let woken = 0;
    for (const [key, t] of this.o.targets) if (key !== except && t.lane.destination === name) woken += this.o.outbox.wake(key, now);
    if (woken > 0) {
      this.o.logger.info({ platform: name, rows: woken }, `${name} answers again: delivering what waited`);
      this.kick();
    }
    return woken;
  }

  /** Waits for attempts in flight (used by stop()). */
  async settle(): Promise<void> {
    await Promise.all([...this.busy.values()]);
  }

  private async attempt(row: OutboxRow): Promise<void> {
    const target = this.o.targets.get(row.lane);
    if (!target) {
      this.o.outbox.markDead(row.id, this.o.clock(), `destination ${row.lane} is no longer configured (check HEADWATCH_ROUTES and the chat settings)`);
      return;
    }
    const name = target.destination.name;
    if (!this.o.outbox.beginAttempt(row.id)) {
      // Fenced: this replica's leader lease is gone (or the row was taken care of); another leader sends it.
      this.o.logger.warn({ destination: row.lane, outboxId: row.id }, 'not sent: this replica no longer holds the leader lease');
      return;
    }
    const stored = row.op === 'alerts' ? undefined : this.o.deliveries.get(row.lane, row.refKey);
    const result = await target.destination.notify(this.delivery(row, target, stored));
    if (result.ok) {
      try {
        this.delivered(row, stored, result.ref);
      } catch (err) {
        // Sent, but not recorded (the disk, the file): retried with a look for the message first, never lost.
        this.failed(row, target, { ok: false, retry: true, error: (err as Error).message, maybeDelivered: true });
        return;
      }
      this.o.metrics?.notifications.inc({ notifier: name });
      this.failing.delete(row.lane);
      // The destination answers again: other lanes of it that were failing need not wait out their backoff.
      if ([...this.failing.keys()].some((k) => this.o.targets.get(k)?.lane.destination === name)) this.wakeDestination(name, row.lane);
    } else {
      this.failed(row, target, result);
    }
  }

  /**
   * What the row asks of the destination. An edit or reply whose message never made it (its post went dead) is
   * posted instead, so nothing is lost.
   */
  private delivery(row: OutboxRow, target: LaneTarget, stored: DeliveryRef | undefined): Delivery {
    if (row.op === 'alerts') return { op: 'alerts', alerts: row.payload as Alert[], deliveryId: row.idemKey };
    const message = row.payload as Message;
    const channelId = target.lane.channelId ?? '';
    const once = { idempotencyKey: row.idemKey, mayExist: row.maybeDelivered, sinceMs: row.createdAt - 60_000 };
    if (row.op === 'edit' && stored) return { op: 'edit', ref: toMessageRef(stored), message };
    if (row.op === 'reply' && stored) return { op: 'reply', channelId, parent: toMessageRef(stored), message, once };
    return { op: 'post', channelId, message, once };
  }

  /** Marks the row sent and remembers where a new message landed (and the thread a first reply opened). */
  private delivered(row: OutboxRow, stored: DeliveryRef | undefined, ref: MessageRef | undefined): void {
    const now = this.o.clock();
    if (ref && row.op === 'reply' && stored) {
      if (ref.threadId && ref.threadId !== stored.threadId) this.o.deliveries.setThread(row.lane, row.refKey, ref.threadId);
    } else if (ref && (row.op === 'post' || !stored)) {
      this.o.deliveries.save(row.lane, row.refKey, { platform: ref.platform, channelId: ref.channelId, messageId: ref.messageId }, now);
    }
    const messageId = row.op === 'edit' && stored ? stored.messageId : ref?.messageId;
    this.o.outbox.markSent(row.id, now, messageId);
  }

  private failed(row: OutboxRow, target: LaneTarget, f: Extract<Notified, { ok: false }>): void {
    const at = this.o.clock();
    this.o.metrics?.notifierFailures.inc({ notifier: target.destination.name });
    if (!this.failing.has(row.lane)) this.failing.set(row.lane, { since: at, error: f.error });
    const tooOld = at - row.createdAt > MAX_AGE_MS;
    if (!f.retry || tooOld) {
      const why = tooOld ? `gave up after 24 h: ${f.error}` : f.error;
      this.o.outbox.markDead(row.id, at, why);
      this.o.logger.error({ destination: row.lane, op: row.op, outboxId: row.id }, `notification dropped: ${why}`);
      return;
    }
    // Retry-After exactly as the platform said; otherwise the ladder, short while the platform is disconnected.
    const down = target.destination.status !== undefined && !target.destination.status().connected;
    const rateLimited = f.retryAfterMs !== undefined;
    const delay = rateLimited ? Math.max(f.retryAfterMs!, 50) : backoffMs(row.attempts + 1, down ? DOWN_BACKOFF_MAX_MS : BACKOFF_MAX_MS);
    this.o.outbox.scheduleRetry(row.id, at + delay, f.error, row.maybeDelivered || f.maybeDelivered, rateLimited);
    const level = row.attempts + 1 >= 3 ? 'warn' : 'debug';
    this.o.logger[level]({ destination: row.lane, op: row.op, outboxId: row.id, attempt: row.attempts + 1, retryInMs: delay }, `delivery failed, will retry: ${f.error}`);
  }
}

function toMessageRef(d: DeliveryRef): MessageRef {
  return { platform: d.platform, channelId: d.channelId, messageId: d.messageId, ...(d.threadId ? { threadId: d.threadId } : {}) };
}
