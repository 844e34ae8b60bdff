import { AlertBatchDestination, DeliveryError } from '../destinations/destination.js';
import { request } from 'undici';
import { parseRetryAfter, redactUrl, signatureHeader } from '../destinations/webhook.js';
import type { TailnetEvent } from './model.js';

export interface EventsSenderOptions {
  /** HEADWATCH_EVENTS_URL. */
  url: string;
  /** HEADWATCH_EVENTS_SECRET: signs every body like Tailscale does. */
  secret?: string;
  timeoutMs?: number;
  clock?: () => number;
}

/** Tailscale's header name; its value is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'Tailscale-Webhook-Signature';

/**
 * POSTs a batch of events as Tailscale does: the body is the JSON array itself, signed with the same scheme
 * as Tailscale's webhooks, so a receiver written for Tailscale verifies it unchanged. Throws DeliveryError
 * (retryable for network errors, 408, 429 with Retry-After, and 5xx) for the outbox to retry.
 */
export class EventsSender {
  readonly name = 'events';
  private readonly clock: () => number;

  constructor(private readonly o: EventsSenderOptions) {
    this.clock = o.clock ?? Date.now;
  }

  async send(events: readonly TailnetEvent[]): Promise<void> {
    if (events.length === 0) return;
    const body = JSON.stringify(events);
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'headwatch' };
    if (this.o.secret) headers[SIGNATURE_HEADER.toLowerCase()] = signatureHeader(this.o.secret, Math.floor(this.clock() / 1000), body);
    let res;
    try {
      res = await request(this.o.url, { method: 'POST', body, headers, headersTimeout: this.o.timeoutMs ?? 10_000, bodyTimeout: this.o.timeoutMs ?? 10_000 });
    } catch (err) {
      throw new DeliveryError(`event webhook ${redactUrl(this.o.url)} unreachable: ${(err as Error).message}`, true, undefined, true);
    }
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const retryable = res.statusCode === 429 || res.statusCode === 408 || res.statusCode >= 500;
    throw new DeliveryError(
      `event webhook ${redactUrl(this.o.url)} answered HTTP ${res.statusCode}${retryable ? '' : ' (not retried: fix the receiver or HEADWATCH_EVENTS_URL)'}`,
      retryable,
      parseRetryAfter(res.headers['retry-after'], this.clock()),
    );
  }
}

/**
 * The event webhook as the outbox sees it: lane `events`, outside HEADWATCH_ROUTES (alerts never go there); a
 * row's batch payload is the event array, handed back unchanged.
 */
export class EventsDestination extends AlertBatchDestination {
  readonly name = 'events';

  constructor(private readonly sender: EventsSender) {
    super();
  }

  override get displayName(): string {
    return 'event webhook';
  }

  send(batch: unknown[]): Promise<void> {
    return this.sender.send(batch as TailnetEvent[]);
  }
}
