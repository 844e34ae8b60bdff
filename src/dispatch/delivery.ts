import type { Logger } from 'pino';
import type { Alert } from '../alerts/model.js';
import { DeliveryError, type ChatAdapter, type MessageRef, type Platform } from '../adapters/chat.js';
import type { Message } from '../messages/model.js';
import type { Metrics } from '../http/metrics.js';
import type { Deliveries, DeliveryRef } from '../store/deliveries.js';
import type { Outbox, OutboxRow } from '../store/outbox.js';
import type { Lane } from './pipeline.js';
import type { AlertSender } from './types.js';

/**
 * Drains the outbox: per lane strictly in order (only a lane's oldest pending row is ever attempted), lanes
 * in parallel. Retries with exponential backoff or the platform's Retry-After; gives up only on errors that
 * say retrying cannot help, or after MAX_AGE_MS.
 */
export interface LaneTarget {
  lane: Lane;
  adapter?: ChatAdapter;
  sender?: AlertSender;
}

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
      targets: Map<string, LaneTarget>;
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
   * The platform reconnected or answered again: its waiting lanes are due now (a Retry-After still holds).
   * Returns how many rows were woken.
   */
  wakePlatform(platform: Platform, except?: string): number {
    const now = this.o.clock();
    let woken = 0;
    for (const [key, t] of this.o.targets) if (key !== except && t.adapter?.platform === platform) woken += this.o.outbox.wake(key, now);
    if (woken > 0) {
      this.o.logger.info({ platform, rows: woken }, `${platform} answers again: delivering what waited`);
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
    const now = this.o.clock();
    if (!target) {
      this.o.outbox.markDead(row.id, now, `destination ${row.lane} is no longer configured (check HEADWATCH_ROUTES and the chat settings)`);
      return;
    }
    const name = target.sender?.name ?? target.lane.platform ?? row.lane;
    this.o.outbox.beginAttempt(row.id);
    try {
      const result = await this.deliver(row, target);
      this.o.outbox.markSent(row.id, this.o.clock(), result);
      this.o.metrics?.notifications.inc({ notifier: name });
      this.failing.delete(row.lane);
      // The platform answers again: other lanes of it that were failing need not wait out their backoff.
      const platform = target.adapter?.platform;
      if (platform && [...this.failing.keys()].some((k) => this.o.targets.get(k)?.adapter?.platform === platform)) this.wakePlatform(platform, row.lane);
    } catch (err) {
      const de = toDeliveryError(err);
      const at = this.o.clock();
      this.o.metrics?.notifierFailures.inc({ notifier: name });
      if (!this.failing.has(row.lane)) this.failing.set(row.lane, { since: at, error: de.message });
      const tooOld = at - row.createdAt > MAX_AGE_MS;
      if (!de.retryable || tooOld) {
        const why = tooOld ? `gave up after 24 h: ${de.message}` : de.message;
        this.o.outbox.markDead(row.id, at, why);
        this.o.logger.error({ destination: row.lane, op: row.op, outboxId: row.id }, `notification dropped: ${why}`);
        return;
      }
      // Retry-After exactly as the platform said; otherwise the ladder, short while the platform is disconnected.
      const down = target.adapter !== undefined && !target.adapter.status().connected;
      const rateLimited = de.retryAfterMs !== undefined;
      const delay = rateLimited ? Math.max(de.retryAfterMs!, 50) : backoffMs(row.attempts + 1, down ? DOWN_BACKOFF_MAX_MS : BACKOFF_MAX_MS);
      this.o.outbox.scheduleRetry(row.id, at + delay, de.message, row.maybeDelivered || de.maybeDelivered, rateLimited);
      const level = row.attempts + 1 >= 3 ? 'warn' : 'debug';
      this.o.logger[level](
        { destination: row.lane, op: row.op, outboxId: row.id, attempt: row.attempts + 1, retryInMs: delay },
        `delivery failed, will retry: ${de.message}`,
      );
    }
  }

  private async deliver(row: OutboxRow, target: LaneTarget): Promise<string | undefined> {
    if (row.op === 'alerts') {
      if (!target.sender) throw new DeliveryError(`${row.lane} cannot take alert batches`, false);
      await target.sender.send(row.payload as Alert[]);
      return undefined;
    }
    const adapter = target.adapter;
    const channelId = target.lane.channelId;
    if (!adapter || !channelId) throw new DeliveryError(`${row.lane} is not a chat channel`, false);
    const message = row.payload as Message;
    const lane = row.lane;
    const opts = { idempotencyKey: row.idemKey };
    const since = row.createdAt - 60_000;
    const stored = this.o.deliveries.get(lane, row.refKey);

    if (row.op === 'edit' && stored) {
      await adapter.edit(toMessageRef(stored, adapter.platform), message);
      return stored.messageId;
    }
    if (row.op === 'reply' && stored) {
      const parent = toMessageRef(stored, adapter.platform);
      const found = row.maybeDelivered && adapter.findSent ? await adapter.findSent(channelId, row.idemKey, { threadOf: parent, sinceMs: since }) : undefined;
      const ref = found ?? (await adapter.send(channelId, message, parent, opts));
      if (ref.threadId && ref.threadId !== stored.threadId) this.o.deliveries.setThread(lane, row.refKey, ref.threadId);
      return ref.messageId;
    }
    // A post, or an edit/reply whose message never made it (dead post): post it so nothing is lost.
    const found = row.maybeDelivered && adapter.findSent ? await adapter.findSent(channelId, row.idemKey, { sinceMs: since }) : undefined;
    const ref = found ?? (await adapter.send(channelId, message, undefined, opts));
    if (row.op === 'post' || !stored) {
      this.o.deliveries.save(lane, row.refKey, { platform: ref.platform, channelId: ref.channelId, messageId: ref.messageId }, this.o.clock());
    }
    if (!found) await this.attachImages(adapter, ref, message, row);
    return ref.messageId;
  }

  /**
   * Pictures of a posted message (CPU charts): Slack uploads them into its thread, Discord attaches them to
   * it. The message itself is already delivered, so a failed upload is logged and counted, never retried
   * in a way that could post the message twice, and never holds the lane.
   */
  private async attachImages(adapter: ChatAdapter, ref: MessageRef, message: Message, row: OutboxRow): Promise<void> {
    for (const image of message.images ?? []) {
      try {
        await adapter.attachImage(ref, image);
      } catch (err) {
        this.o.metrics?.notifierFailures.inc({ notifier: `${adapter.platform}-chart` });
        this.o.logger.warn({ destination: row.lane, outboxId: row.id, file: image.filename }, `chart not attached (the message was delivered): ${(err as Error).message}`);
      }
    }
  }
}

function toMessageRef(d: DeliveryRef, platform: Platform): MessageRef {
  return { platform, channelId: d.channelId, messageId: d.messageId, ...(d.threadId ? { threadId: d.threadId } : {}) };
}

export function toDeliveryError(err: unknown): DeliveryError {
  if (err instanceof DeliveryError) return err;
  // Unknown failures are worth retrying: they are usually transient, and the outbox gives up after a day.
  const msg = err instanceof Error ? err.message : String(err);
  return new DeliveryError(msg, true, undefined, true);
}
