import type { Alert } from '../alerts/model.js';
import type { MessageRef } from '../adapters/chat.js';
import type { Message } from '../messages/model.js';

/**
 * Where notifications go: the console, the JSON webhook, a chat platform. Every one is delivered through this
 * one interface, modelled on Alertmanager's `Notify(ctx, alerts...) (retry bool, err error)`: a destination does
 * one attempt and says whether it worked and, if not, whether trying again can help; the outbox decides when and
 * how often (src/dispatch/delivery.ts). Nothing outside a destination knows which platform it is.
 */
export interface Destination {
  /** The name routes use (`console`, `webhook`, `slack`, `discord`): lane keys, metrics and logs carry it. */
  readonly name: string;
  /** For people: "Slack" in "Slack has been unreachable for 2 min". */
  readonly displayName: string;
  /**
   * `alerts`: takes batches of alerts (console, webhook). `chat`: channel messages it can edit and reply to in a
   * thread; routes may name a channel (`slack:C0123`).
   */
  readonly kind: 'alerts' | 'chat';
  /** The channel a route without one means (SLACK_CHANNEL, DISCORD_CHANNEL_ID); chat destinations only. */
  readonly defaultChannel?: string;
  /** The setting that holds the default channel, named in the error when a route needs it and it is unset. */
  readonly channelSetting?: string;
  /** The settings holding its credentials, named in the advice when it cannot be reached (SLACK_BOT_TOKEN, …). */
  readonly credentialSettings?: readonly string[];
  /** alerts destinations: also content updates of firing alerts (the console's "updated" lines), not only state changes and repeats. */
  readonly wantsUpdates?: boolean;
  notify(delivery: Delivery): Promise<Notified>;
  /** Connection health of a chat platform, for self-monitoring; absent where there is no connection to lose. */
  status?(): { connected: boolean; since: number; lastError?: string };
}

/**
 * The incident an alert is a member of (src/incidents): the webhook adds it as the alert's `incident` object, the
 * console prints its INCIDENT line. Looked up when sending, so it tells the incident as it is then.
 */
export type IncidentLookup = (fingerprint: string) => { payload: { id: number } & Record<string, unknown>; line: (change: 'opened' | 'updated') => string } | undefined;

/** Which change of an alert is being announced; absent on rows queued by releases that did not record it. */
export type AlertChange = 'firing' | 'updated' | 'resolved' | 'repeat';

export type NotifiedAlert = Alert & { notification?: AlertChange };

/** One outbox row, as the destination sees it. */
export type Delivery =
  | {
      op: 'alerts';
      alerts: NotifiedAlert[];
      /**
       * Stable across every attempt of one outbox row, on any replica: a receiver drops a delivery it has seen
       * (the one duplicate a crash between send and record can cause). The webhook sends it as X-Headwatch-Delivery.
       */
      deliveryId?: string;
    }
  | { op: 'post'; channelId: string; message: Message; once: OnceOnly }
  | { op: 'reply'; channelId: string; parent: MessageRef; message: Message; once: OnceOnly }
  | { op: 'edit'; ref: MessageRef; message: Message };

/** What lets a chat destination post a message exactly once although an attempt's answer may have been lost. */
export interface OnceOnly {
  /** Unique per outbox row; sent along (Discord nonce, Slack message metadata) so a retry can be recognised. */
  idempotencyKey: string;
  /** An earlier attempt may have reached the platform: look for it before posting again. */
  mayExist: boolean;
  /** How far back to look (ms epoch). */
  sinceMs: number;
}

export type Notified =
  | { ok: true; ref?: MessageRef }
  | {
      ok: false;
      /** Trying again can help (a network error, 429, 5xx); false for answers that will not change (400, 403). */
      retry: boolean;
      error: string;
      /** The platform said when to come back (Retry-After). */
      retryAfterMs?: number;
      /** The request may have reached the platform (connection lost before the answer). */
      maybeDelivered: boolean;
    };

/** Error a transport throws so that {@link attempt} can tell the outbox whether and when to retry. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
    /** The request may have reached the platform (connection lost before the answer): check before re-sending. */
    readonly maybeDelivered = false,
  ) {
    super(message);
    this.name = 'DeliveryError';
  }
}

/** Runs one attempt and turns what it throws into a {@link Notified} failure. */
export async function attempt(fn: () => Promise<MessageRef | void>): Promise<Notified> {
  try {
    const ref = await fn();
    return ref ? { ok: true, ref } : { ok: true };
  } catch (err) {
    if (err instanceof DeliveryError) {
      return { ok: false, retry: err.retryable, error: err.message, maybeDelivered: err.maybeDelivered, ...(err.retryAfterMs !== undefined ? { retryAfterMs: err.retryAfterMs } : {}) };
    }
    // Unknown failures are worth retrying: they are usually transient, and the outbox gives up after a day.
    return { ok: false, retry: true, error: err instanceof Error ? err.message : String(err), maybeDelivered: true };
  }
}

/** The answer for a delivery a destination cannot take (a chat message routed to the webhook): never retried. */
export function cannotTake(d: Destination, delivery: Delivery): Notified {
  return { ok: false, retry: false, error: `${d.name} cannot take ${delivery.op === 'alerts' ? 'alert batches' : 'chat messages'}`, maybeDelivered: false };
}

/**
 * Console and webhook: one-way destinations that take batches of alerts. Subclasses implement `send`, which
 * throws DeliveryError on failure.
 */
export abstract class AlertBatchDestination implements Destination {
  abstract readonly name: string;
  readonly kind = 'alerts' as const;
  readonly wantsUpdates: boolean = false;

  get displayName(): string {
    return this.name;
  }

  abstract send(alerts: NotifiedAlert[], opts?: { deliveryId?: string }): Promise<void>;

  notify(delivery: Delivery): Promise<Notified> {
    if (delivery.op !== 'alerts') return Promise.resolve(cannotTake(this, delivery));
    return attempt(() => this.send(delivery.alerts, delivery.deliveryId ? { deliveryId: delivery.deliveryId } : {}));
  }
}
