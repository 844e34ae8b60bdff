import type { Logger } from 'pino';
import type { Alert, AlertTransition } from '../alerts/model.js';
import type { ImageAttachment, Message } from '../messages/model.js';
import type { MessageRef } from '../adapters/chat.js';
import type { Config } from '../config/schema.js';
import type { Destination } from '../destinations/destination.js';
import type { Metrics } from '../http/metrics.js';
import type { Store } from '../store/db.js';
import { AlertRepository } from '../store/alerts.js';
import { Deliveries } from '../store/deliveries.js';
import { Digests } from '../store/digests.js';
import { NotificationLog } from '../store/notification-log.js';
import { NotifyQueue } from '../store/notify-queue.js';
import { Outbox } from '../store/outbox.js';
import { Silences, type NewSilence } from '../store/silences.js';
import { DeliveryRunner } from './delivery.js';
import { EditPacing } from './edit-pacing.js';
import { Lanes, type Lane } from './lanes.js';
import { alertMessage } from './messages.js';
import { PlatformHealth } from './platform-health.js';
import { PromptEdits } from './prompt-edits.js';
import { maintainDigest } from './stages/digest.js';
import { GroupSchedule } from './stages/group.js';
import { runFlush } from './stages/index.js';
import { INHIBIT_RULES } from './stages/mute.js';
import type { FlushParts, SuppressReason } from './stages/types.js';

/** The outbox lane of the event webhook (src/events). */
const EVENTS_LANE = 'events';

export type DispatcherConfig = Pick<
  Config,
  'HEADWATCH_ROUTES' | 'HEADWATCH_GROUP_WAIT' | 'HEADWATCH_GROUP_INTERVAL' | 'HEADWATCH_REPEAT_INTERVAL' | 'HEADWATCH_CHANNEL_BUDGET'
> &
  Partial<Pick<Config, 'HEADWATCH_COMMAND' | 'HEADWATCH_EDIT_INTERVAL'>>;

export interface DispatcherOptions {
  store: Store;
  config: DispatcherConfig;
  logger: Logger;
  metrics?: Metrics;
  /** Console, webhook and chat platforms: every place routes can send to. */
  destinations: Destination[];
  clock?: () => number;
  /** How often start() runs the timers and the outbox (real time). */
  tickMs?: number;
  /**
   * The Tailscale-style event webhook (HEADWATCH_EVENTS_URL): its own lane `events`, which no route reaches;
   * fed by publishEvents().
   */
  events?: Destination;
  /** A picture for an alert's first chat post (AlertCharts.imageFor: the CPU chart). */
  imageFor?(alert: Alert): ImageAttachment | undefined;
  /** A chat platform disconnected this long is reported (log, metrics, `platform-down` alert elsewhere). */
  platformDownAfterMs?: number;
}

/** A destination with a connection (chat platform), as `/headscale status` shows it. */
export interface PlatformView {
  platform: string;
  connected: boolean;
  since: number;
  lastError?: string;
  downForMs?: number;
  /** The last delivery error of one of its lanes, while it keeps failing. */
  deliveryError?: string;
}

export interface DispatcherStatus {
  platforms: PlatformView[];
  /** Outbox rows not yet delivered, per destination lane (e.g. `slack:C123`, `webhook`). */
  outboxPending: Record<string, number>;
  suppressed: Record<SuppressReason, number>;
  /** Lanes currently folding alerts into a storm digest. */
  storms: string[];
}

/**
 * Decides what is sent where and when, Alertmanager-style: route each transition to its lanes (lanes.ts) and
 * queue it in its group; flush due groups through the notification stages (stages/index.ts) into the durable
 * outbox; drain the outbox to the destinations with retries (delivery.ts). `handle()` records every transition
 * in SQLite before it returns, so nothing decided or pending is lost across restarts.
 */
export class Dispatcher {
  readonly silences: Silences;
  private readonly alerts: AlertRepository;
  private readonly queue: NotifyQueue;
  private readonly digests: Digests;
  private readonly outbox: Outbox;
  private readonly deliveries: Deliveries;
  private readonly runner: DeliveryRunner;
  private readonly clock: () => number;
  private readonly lanes: Lanes;
  private readonly schedule: GroupSchedule;
  private readonly health: PlatformHealth;
  private readonly prompt: PromptEdits;
  private readonly pacing: EditPacing;
  private readonly parts: FlushParts;
  private readonly counts: Record<SuppressReason, number> = { silenced: 0, inhibited: 0, deduplicated: 0, folded: 0 };
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private wake: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastPrune = 0;
  private offChat: (alert: Alert) => boolean = () => false;

  constructor(private readonly o: DispatcherOptions) {
    this.clock = o.clock ?? Date.now;
    this.log = o.logger.child({ component: 'dispatch' });
    this.alerts = new AlertRepository(o.store);
    this.queue = new NotifyQueue(o.store);
    this.digests = new Digests(o.store);
    this.outbox = new Outbox(o.store);
    this.deliveries = new Deliveries(o.store);
    this.silences = new Silences(o.store, this.clock);
    this.lanes = new Lanes(o.destinations, o.config.HEADWATCH_ROUTES);
    if (o.events) this.lanes.targets.set(EVENTS_LANE, { lane: { key: EVENTS_LANE, destination: o.events.name, kind: 'alerts' }, destination: o.events });
    const log = new NotificationLog(o.store);
    this.parts = {
      alerts: this.alerts,
      queue: this.queue,
      log,
      digests: this.digests,
      outbox: this.outbox,
      silences: this.silences,
      groupIntervalMs: o.config.HEADWATCH_GROUP_INTERVAL,
      repeatIntervalMs: o.config.HEADWATCH_REPEAT_INTERVAL,
      channelBudget: o.config.HEADWATCH_CHANNEL_BUDGET,
      ...(o.config.HEADWATCH_COMMAND ? { commandName: o.config.HEADWATCH_COMMAND } : {}),
      suppressed: (reason, n = 1) => {
        this.counts[reason] += n;
        o.metrics?.notificationsSuppressed.inc({ reason }, n);
      },
      ...(o.imageFor ? { imageFor: o.imageFor } : {}),
    };
    this.schedule = new GroupSchedule(this.queue, log, {
      groupWaitMs: o.config.HEADWATCH_GROUP_WAIT,
      groupIntervalMs: o.config.HEADWATCH_GROUP_INTERVAL,
      repeatIntervalMs: o.config.HEADWATCH_REPEAT_INTERVAL,
    });
    this.pacing = new EditPacing(this.outbox, (key) => this.lanes.get(key)?.lane, o.config.HEADWATCH_EDIT_INTERVAL ?? 10_000);
    this.prompt = new PromptEdits({
      queue: this.queue,
      log,
      digests: this.digests,
      pacing: this.pacing,
      groupDrained: (lane, group) => this.schedule.drained(lane, group),
    });
    this.prompt.restore((key) => this.lanes.get(key)?.lane);
    this.runner = new DeliveryRunner({
      outbox: this.outbox,
      deliveries: this.deliveries,
      targets: this.lanes.targets,
      clock: this.clock,
      logger: this.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
    this.health = new PlatformHealth({
      destinations: o.destinations,
      logger: this.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.platformDownAfterMs !== undefined ? { downAfterMs: o.platformDownAfterMs } : {}),
      wake: (name) => this.runner.wakeDestination(name),
      record: (alert, change, exclude) => this.record(alert, change, exclude),
    });
    this.health.restore(this.alerts.firing('platform-down'));
  }

  /**
   * One message for every alert channel (the daily report): a post per chat lane, durable in the outbox.
   * Synchronous, so the caller can enqueue it inside the transaction that decided it (the report's slot
   * claim). Returns how many channels it went to.
   */
  publish(message: Message, key: string): number {
    const now = this.clock();
    const chat = [...this.lanes.targets.values()].filter((t) => t.lane.kind === 'chat');
    this.o.store.transaction(() => {
      for (const t of chat) this.outbox.enqueue(t.lane.key, 'post', key, message, now);
    });
    if (chat.length === 0) this.log.info({ key }, 'no chat channel is configured: the report was not posted anywhere');
    // After the caller's transaction has committed: the runner reads the outbox from the same connection.
    setImmediate(() => this.runner.kick());
    return chat.length;
  }

  /** Queues a batch of tailnet events and runs `alongside` (saving what was told) in the same transaction. */
  publishEvents(events: unknown[], alongside: () => void): void {
    if (!this.lanes.get(EVENTS_LANE)) return;
    const now = this.clock();
    this.o.store.transaction(() => {
      this.outbox.enqueue(EVENTS_LANE, 'alerts', `events:${now}`, events, now);
      alongside();
    });
    setImmediate(() => this.runner.kick());
  }

  /** Records a lifecycle transition durably, before returning; delivery happens on the group's schedule. */
  handle(t: AlertTransition): void {
    this.record(t.alert, t.change);
  }

  /**
   * Alerts the predicate holds stay off the chat lanes (console and webhook still get them): incident members,
   * shown in their incident's message instead of on their own.
   */
  keepOffChat(held: (alert: Alert) => boolean): void {
    this.offChat = held;
  }

  /** The chat lanes (`slack:C123`) the routes send this alert to: where its incident's message goes. */
  chatLanesFor(alert: Pick<Alert, 'kind' | 'subject' | 'severity'>): string[] {
    return this.lanes
      .forAlert(alert)
      .filter((l) => l.kind === 'chat')
      .map((l) => l.key);
  }

  /**
   * Chat messages of another module (incident messages) through the same durable outbox and per-lane order as
   * alerts: post, edit or thread reply by ref key. Synchronous, so it joins the caller's transaction.
   */
  enqueueChat(rows: { lane: string; op: 'post' | 'edit' | 'reply'; refKey: string; message: Message }[]): void {
    const now = this.clock();
    this.o.store.transaction(() => {
      for (const r of rows) if (this.lanes.get(r.lane)?.lane.kind === 'chat') this.outbox.enqueue(r.lane, r.op, r.refKey, r.message, now);
    });
    setImmediate(() => this.runner.kick());
  }

  /**
   * Whether the message `refKey` on chat lane `lane` may be edited at `now` (edit-pacing.ts): the same limits
   * for incident messages as for alert messages — one edit per HEADWATCH_EDIT_INTERVAL, room in the channel.
   */
  mayEdit(lane: string, refKey: string, now = this.clock()): boolean {
    const t = this.lanes.get(lane);
    return !t || this.pacing.mayEdit(t.lane, refKey, now);
  }

  /** Lanes of an alert, without the chat lanes when it is shown elsewhere (keepOffChat). */
  private lanesOf(alert: Alert, exclude?: string): Lane[] {
    const lanes = this.lanes.forAlert(alert, exclude);
    return this.offChat(alert) ? lanes.filter((l) => l.kind !== 'chat') : lanes;
  }

  private record(alert: Alert, change: AlertTransition['change'], exclude?: string): void {
    const now = this.clock();
    const lanes = this.lanesOf(alert, exclude);
    const requeue: { alert: Alert; lanes: Lane[] }[] = [];
    if (alert.status === 'resolved') {
      // The parent problem is gone: alerts it held back are notifiable again if they still fire.
      for (const rule of INHIBIT_RULES.filter((r) => r.source === alert.kind)) {
        for (const a of this.alerts.firingOfKinds(rule.targets)) requeue.push({ alert: a, lanes: this.lanesOf(a) });
      }
    }
    this.o.store.transaction(() => {
      // The engine already stored its alerts; this keeps the row for alerts handed over directly (platform-down).
      this.alerts.save(alert);
      for (const lane of lanes) this.queue.add(lane.key, alert.fingerprint, alert.kind, change, now);
      for (const r of requeue) for (const lane of r.lanes) this.queue.add(lane.key, r.alert.fingerprint, r.alert.kind, 'updated', now);
    });
    let flushed = false;
    for (const lane of lanes) {
      this.schedule.queued(lane.key, alert.kind, now);
      this.prompt.queued(lane, alert.fingerprint, now);
      // Machine destinations (console, webhook) get a change at once unless one was just sent (GroupSchedule.dueAt).
      if (lane.kind !== 'alerts') continue;
      const due = this.schedule.dueAt(lane, alert.kind);
      if (now >= due) {
        this.flushGroup(lane.key, alert.kind, now);
        flushed = true;
      } else {
        this.wakeAt(due - now);
      }
    }
    for (const r of requeue) for (const lane of r.lanes) this.schedule.queued(lane.key, r.alert.kind, now);
    if (flushed) this.runner.kick();
  }

  /** Runs a tick when a console/webhook batch falls due, rather than up to a tick interval later. */
  private wakeAt(delayMs: number): void {
    if (!this.timer || this.wake) return;
    this.wake = setTimeout(() => {
      this.wake = undefined;
      try {
        this.tick();
      } catch (err) {
        this.log.error({ err }, 'dispatcher tick failed; will retry');
      }
    }, delayMs);
    this.wake.unref();
  }

  private flushGroup(laneKey: string, group: string, now: number): void {
    this.schedule.flushing(laneKey, group, now);
    const t = this.lanes.get(laneKey);
    if (!t) return; // a lane no route reaches any more: its changes stay queued, harmlessly
    const held = this.prompt.held(laneKey);
    this.o.store.transaction(() => runFlush({ ...this.parts, lane: t.lane, group, now, held }));
    // Changes left for their message's next edit: if the prompt path lets go of them (a storm began), the group
    // carries them at its next interval.
    if (held.size > 0 && this.queue.groupSize(laneKey, group) > 0) this.schedule.queued(laneKey, group, now);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.ticking) return;
      this.ticking = true;
      try {
        this.tick();
      } catch (err) {
        this.log.error({ err }, 'dispatcher tick failed; will retry');
      } finally {
        this.ticking = false;
      }
    }, this.o.tickMs ?? 250);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.wake) clearTimeout(this.wake);
    this.timer = undefined;
    this.wake = undefined;
    await this.runner.settle();
  }

  /** Runs everything due at clock() and waits until it is delivered or scheduled for retry (tests, shutdown). */
  async flush(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      this.tick();
      await this.runner.drain();
    }
  }

  /** One pass of the timers: platform health, repeats, due group flushes, digests, then delivery. */
  tick(): void {
    const now = this.clock();
    this.health.check(now);
    this.o.store.transaction(() => this.schedule.queueRepeats(now));
    // Changes for messages that already exist: edited as soon as the message may be edited again (prompt-edits.ts).
    this.prompt.run(
      now,
      (key) => this.lanes.get(key)?.lane,
      (lane, stages, group) => this.o.store.transaction(() => runFlush({ ...this.parts, lane, group, now }, stages)),
    );
    for (const g of this.schedule.dueGroups(now, (key) => this.lanes.get(key)?.lane)) this.flushGroup(g.lane, g.group, now);
    for (const d of this.digests.toMaintain()) {
      // The digest edits at most once per group interval, counted from when its last edit reached the platform,
      // and only when its channel has room (edit-pacing.ts; maintainDigest keeps the cadence of what it says).
      const lane = this.lanes.get(d.lane)?.lane;
      if (d.posted && lane && !this.pacing.mayEdit(lane, d.refKey, now, this.o.config.HEADWATCH_GROUP_INTERVAL)) continue;
      this.o.store.transaction(() => maintainDigest(this.parts, d, now));
    }
    const pending = this.outbox.pendingByLane();
    for (const key of this.lanes.targets.keys()) this.o.metrics?.outboxPending.set({ destination: key }, pending.get(key) ?? 0);
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      this.outbox.prune(now - 7 * 86_400_000);
    }
    this.runner.kick();
  }

  status(): DispatcherStatus {
    const now = this.clock();
    const platforms: PlatformView[] = [];
    for (const d of this.o.destinations) {
      if (!d.status) continue;
      const downForMs = this.health.downForMs(d.name, now);
      const failing = [...this.runner.failing.entries()].find(([lane]) => this.lanes.get(lane)?.lane.destination === d.name);
      platforms.push({ platform: d.name, ...d.status(), ...(downForMs !== undefined ? { downForMs } : {}), ...(failing ? { deliveryError: failing[1].error } : {}) });
    }
    return {
      platforms,
      outboxPending: Object.fromEntries(this.outbox.pendingByLane()),
      suppressed: { ...this.counts },
      storms: [...this.lanes.targets.keys()].filter((k) => this.digests.get(k)?.active),
    };
  }

  // --- silencing ---------------------------------------------------------------------------------------

  /**
   * What `/headscale silence` and the alert message's Silence button use (src/actions/silences.ts): the
   * silences, the alert a button's short hash names, and a note on the silenced message. Who may silence is
   * decided by the command router's policy, not here.
   */
  silenceControl() {
    return {
      create: (s: NewSilence) => this.silences.create(s),
      list: () => this.silences.list(),
      expire: (idOrPrefix: string) => this.silences.expire(idOrPrefix),
      fingerprintByHash: (hash: string) => this.alerts.byFingerprintHash(hash)?.fingerprint,
      markSilenced: (fingerprint: string, note: string, clicked?: MessageRef) => this.markSilenced(fingerprint, note, clicked),
    };
  }

  /** Marks the alert's messages silenced, through the outbox to keep each lane's order. */
  private markSilenced(fingerprint: string, note: string, clicked?: MessageRef): void {
    const alert = this.alerts.get(fingerprint);
    if (!alert) return;
    // The alert's own message in every chat channel that has one (Slack and Discord both show it; a digest line is
    // left as it is), and the message whose button was clicked.
    const messages = new Map<string, string>();
    for (const [lane, t] of this.lanes.targets) {
      const told = t.lane.kind === 'chat' ? this.parts.log.get(lane, fingerprint) : undefined;
      if (told?.refKey && !told.folded) messages.set(lane, told.refKey);
    }
    const found = clicked && this.deliveries.findByMessage(clicked.platform, clicked.messageId);
    if (found && this.lanes.get(found.lane) && !messages.has(found.lane)) messages.set(found.lane, found.refKey);
    if (messages.size === 0) return;
    const now = this.clock();
    const message = alertMessage(alert, { now, silencedNote: note, commandName: this.o.config.HEADWATCH_COMMAND });
    this.o.store.transaction(() => {
      for (const [lane, refKey] of messages) this.outbox.enqueue(lane, 'edit', refKey, message, now);
    });
    this.runner.kick();
  }
}
