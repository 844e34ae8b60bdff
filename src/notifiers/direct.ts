import type { Logger } from 'pino';
import { DeliveryError } from '../adapters/chat.js';
import type { AlertTransition } from '../alerts/model.js';
import type { Metrics } from '../http/metrics.js';
import type { AlertSender } from './sender.js';

/**
 * Minimal delivery used when no dispatcher is configured: every transition goes to every sender, in order
 * per sender, retried with exponential backoff (honouring Retry-After) until it succeeds or the error is not
 * retryable.
 */
export class DirectDelivery {
  private readonly queues = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly senders: AlertSender[],
    private readonly logger: Logger,
    private readonly metrics: Metrics,
    private readonly maxAttempts = 8,
  ) {}

  handle(t: AlertTransition): void {
    for (const s of this.senders) {
      const prev = this.queues.get(s.name) ?? Promise.resolve();
      const next = prev.then(() => this.deliver(s, t));
      this.queues.set(s.name, next);
    }
  }

  async flush(): Promise<void> {
    await Promise.all(this.queues.values());
  }

  stop(): void {
    this.stopped = true;
  }

  private async deliver(s: AlertSender, t: AlertTransition): Promise<void> {
    for (let attempt = 1; attempt <= this.maxAttempts && !this.stopped; attempt++) {
      try {
        await s.send([t.alert]);
        this.metrics.notifications.inc({ notifier: s.name });
        return;
      } catch (err) {
        this.metrics.notifierFailures.inc({ notifier: s.name });
        const retryable = err instanceof DeliveryError ? err.retryable : true;
        const msg = (err as Error).message;
        if (!retryable || attempt === this.maxAttempts) {
          this.logger.error({ notifier: s.name, fingerprint: t.alert.fingerprint, attempt }, `giving up delivering alert: ${msg}`);
          return;
        }
        const backoff = Math.min(30_000, 500 * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2);
        const wait = err instanceof DeliveryError && err.retryAfterMs !== undefined ? Math.max(err.retryAfterMs, backoff) : backoff;
        this.logger.warn({ notifier: s.name, fingerprint: t.alert.fingerprint, attempt, retryInMs: Math.round(wait) }, `delivery failed, will retry: ${msg}`);
        await new Promise((r) => setTimeout(r, wait).unref());
      }
    }
  }
}
