import type { Logger } from 'pino';
import type { Finding } from '../parsers/finding.js';
import type { TailnetEventsState } from '../store/tailnet-events.js';
import type { TailnetEvent } from './model.js';
import { EventSynthesizer } from './synthesizer.js';

export interface EventsServiceOptions {
  /** HEADWATCH_EVENTS_TAILNET (default: HEADSCALE_URL's host name). */
  tailnet: string;
  /** HEADWATCH_EVENTS_DEBOUNCE. */
  debounceMs: number;
  state: TailnetEventsState;
  /**
   * Queues a batch in the durable outbox (lane `events`) and runs `alongside` in the same transaction: the
   * synthesizer's state is saved with the events it produced, so an event is neither told twice nor lost.
   */
  queue(events: TailnetEvent[], alongside: () => void): void;
  logger: Logger;
  clock: () => number;
  /** How often debounced connect/disconnect changes are checked (default 1 s). */
  tickMs?: number;
}

/** The state is also saved without an event (a first policy seen, baselines) at most this often. */
const SAVE_EVERY_MS = 30_000;

/**
 * Tailscale-style event webhooks (HEADWATCH_EVENTS_URL): every finding (API poller, logs) passes through the
 * synthesizer; what it says goes to the outbox lane `events`, delivered by EventsSender with retries and
 * Retry-After like every destination.
 */
export class EventsService {
  private readonly synth: EventSynthesizer;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private savedJson: string | undefined;
  private savedAt = 0;

  constructor(private readonly o: EventsServiceOptions) {
    this.log = o.logger.child({ component: 'events' });
    this.synth = new EventSynthesizer({ tailnet: o.tailnet, debounceMs: o.debounceMs });
    const saved = o.state.load();
    this.synth.restore(saved);
    if (saved !== undefined) this.savedJson = JSON.stringify(saved);
  }

  observe(f: Finding): void {
    this.emit(this.synth.observe(f));
  }

  /** Sends the connect/disconnect changes whose debounce has passed; saves a changed state now and then. */
  tick(now = this.o.clock()): void {
    this.emit(this.synth.tick(now));
    if (now - this.savedAt >= SAVE_EVERY_MS) this.save(now);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.o.tickMs ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.save(this.o.clock());
  }

  private emit(events: TailnetEvent[]): void {
    if (events.length === 0) return;
    const now = this.o.clock();
    try {
      this.o.queue(events, () => this.saveNow(now));
      this.log.debug({ events: events.map((e) => e.type) }, 'tailnet events queued');
    } catch (err) {
      this.log.error({ err: (err as Error).message, events: events.map((e) => e.type) }, 'could not queue tailnet events (SQLite); they are not sent — check HEADWATCH_DB');
    }
  }

  private save(now: number): void {
    try {
      this.saveNow(now);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not save the event webhook state (SQLite); will retry');
    }
  }

  private saveNow(now: number): void {
    const json = JSON.stringify(this.synth.snapshot());
    this.savedAt = now;
    if (json === this.savedJson) return;
    this.o.state.save(JSON.parse(json) as unknown, now);
    this.savedJson = json;
  }
}
