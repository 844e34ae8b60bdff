import type { Logger } from 'pino';
import type { Alert, AlertTransition } from '../alerts/model.js';
import type { ImageAttachment, Message } from '../messages/model.js';
import type { ChatAdapter, MessageRef, Platform, PlatformStatus } from '../adapters/chat.js';
import { ConfigError } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../http/metrics.js';
import type { Store } from '../store/db.js';
import { AlertRepository } from '../store/alerts.js';
import { Deliveries } from '../store/deliveries.js';
import { Digests } from '../store/digests.js';
import { NotificationLog } from '../store/notification-log.js';
import { NotifyQueue } from '../store/notify-queue.js';
import { Outbox } from '../store/outbox.js';
import { Silences, type NewSilence } from '../store/silences.js';
import { DeliveryRunner, type LaneTarget } from './delivery.js';
import { alertMessage, formatDuration } from './messages.js';
import { flushGroup, INHIBIT_RULES, maintainDigest, type Lane, type PipelineContext, type SuppressReason } from './pipeline.js';
import { parseRoutes, routeAlert, type Route } from './routes.js';
import type { AlertSender } from './types.js';

export type DispatcherConfig = Pick<
  Config,
  | 'HEADWATCH_ROUTES'
  | 'HEADWATCH_GROUP_WAIT'
  | 'HEADWATCH_GROUP_INTERVAL'
  | 'HEADWATCH_REPEAT_INTERVAL'
  | 'HEADWATCH_CHANNEL_BUDGET'
  | 'SLACK_CHANNEL'
  | 'DISCORD_CHANNEL_ID'
> &
  Partial<Pick<Config, 'HEADWATCH_COMMAND'>>;

export interface DispatcherOptions {
  store: Store;
  config: DispatcherConfig;
  logger: Logger;
  metrics?: Metrics;
  senders: AlertSender[];
  chat: ChatAdapter[];
  clock?: () => number;
  /** How often start() runs the timers and the outbox (real time). */
  tickMs?: number;
  /** A picture for an alert's first chat post (AlertCharts.imageFor: the CPU chart). */
  imageFor?(alert: Alert): ImageAttachment | undefined;
  /** A chat platform disconnected this long is reported (log, metrics, `platform-down` alert elsewhere). */
  platformDownAfterMs?: number;
}

export interface DispatcherStatus {
  platforms: (PlatformStatus & { downForMs?: number; deliveryError?: string })[];
  /** Outbox rows not yet delivered, per destination lane (e.g. `slack:C123`, `webhook`). */
  outboxPending: Record<string, number>;
  suppressed: Record<SuppressReason, number>;
  /** Lanes currently folding alerts into a storm digest. */
  storms: string[];
}

interface GroupTimer {
  lane: string;
  group: string;
  firstPendingAt?: number;
  lastFlushAt?: number;
}

/**
 * Decides what is sent where and when, Alertmanager-style: route → (per lane and kind group) group_wait /
 * group_interval → silence → inhibit → dedup → budget/fold into a storm digest → durable outbox → delivery
 * with retries. `handle()` records every transition in SQLite before it returns, so nothing decided or
 * pending is lost across restarts.
 */
/** Minimum spacing of sends to a console/webhook lane; changes in between ride along with the next send. */
const SENDER_BATCH_MS = 200;

export class Dispatcher {
  readonly silences: Silences;
  private readonly alerts: AlertRepository;
  private readonly queue: NotifyQueue;
  private readonly digests: Digests;
  private readonly outbox: Outbox;
  private readonly deliveries: Deliveries;
  private readonly runner: DeliveryRunner;
  private readonly clock: () => number;
  private readonly routes: Route[];
  private readonly lanes = new Map<string, LaneTarget>();
  private readonly groups = new Map<string, GroupTimer>();
  private readonly ctx: PipelineContext;
  private readonly counts: Record<SuppressReason, number> = { silenced: 0, inhibited: 0, deduplicated: 0, folded: 0 };
  private readonly down = new Map<Platform, { since: number; reported: boolean }>();
  /** Connection `since` last seen per platform: a change while connected is a reconnect (even between ticks). */
  private readonly seenSince = new Map<Platform, number>();
  private readonly log: Logger;
  private timer: NodeJS.Timeout | undefined;
  private wake: NodeJS.Timeout | undefined;
  private ticking = false;
  private lastPrune = 0;

  constructor(private readonly o: DispatcherOptions) {
    this.clock = o.clock ?? Date.now;
    this.log = o.logger.child({ component: 'dispatch' });
    this.alerts = new AlertRepository(o.store);
    this.queue = new NotifyQueue(o.store);
    this.digests = new Digests(o.store);
    this.outbox = new Outbox(o.store);
    this.deliveries = new Deliveries(o.store);
    this.silences = new Silences(o.store, this.clock);

    const known = [...o.chat.map((a) => a.platform), ...o.senders.map((s) => s.name)];
    const spec = o.config.HEADWATCH_ROUTES?.trim();
    this.routes = spec ? parseRoutes(spec, known) : [{ to: known }];
    for (const route of this.routes) for (const dest of route.to) this.lane(dest);

    this.ctx = {
      alerts: this.alerts,
      queue: this.queue,
      log: new NotificationLog(o.store),
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
    this.runner = new DeliveryRunner({
      outbox: this.outbox,
      deliveries: this.deliveries,
      targets: this.lanes,
      clock: this.clock,
      logger: this.log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
    });
    // A platform reported down before a restart is still down as far as anyone was told: its recovery resolves it.
    for (const a of this.alerts.firing('platform-down')) {
      const adapter = o.chat.find((c) => a.fingerprint === `platform-down:${c.platform}`);
      if (adapter) this.down.set(adapter.platform, { since: Date.parse(a.startsAt), reported: true });
    }
    for (const g of this.queue.groupFlushes()) this.timer_(g.lane, g.group).lastFlushAt = g.at;
    for (const g of this.queue.pendingGroups()) this.timer_(g.lane, g.group).firstPendingAt = g.first;
  }

  /** Resolves a destination key (`slack`, `slack:C123`, `webhook`) to its lane, creating it once. */
  private lane(dest: string): LaneTarget | undefined {
    if (dest === 'none') return undefined;
    const [name, explicit] = dest.split(':') as [string, string | undefined];
    const adapter = this.o.chat.find((a) => a.platform === name);
    if (adapter) {
      const channelId = explicit ?? (name === 'slack' ? this.o.config.SLACK_CHANNEL : this.o.config.DISCORD_CHANNEL_ID);
      if (!channelId) {
        throw new ConfigError([`${name === 'slack' ? 'SLACK_CHANNEL' : 'DISCORD_CHANNEL_ID'}: required to send alerts to ${name}`]);
      }
      const key = `${name}:${channelId}`;
      let t = this.lanes.get(key);
      if (!t) {
        t = { lane: { key, type: 'chat', platform: adapter.platform, channelId }, adapter };
        this.lanes.set(key, t);
      }
      return t;
    }
    const sender = this.o.senders.find((s) => s.name === name);
    if (!sender) return undefined;
    let t = this.lanes.get(name);
    if (!t) {
      t = { lane: { key: name, type: 'sender', ...(sender.wantsUpdates ? { updates: true } : {}) }, sender };
      this.lanes.set(name, t);
    }
    return t;
  }

  private lanesFor(alert: Pick<Alert, 'kind' | 'subject' | 'severity'>, exclude?: Platform): Lane[] {
    const out: Lane[] = [];
    for (const dest of routeAlert(this.routes, alert)) {
      const t = this.lane(dest);
      if (!t || (exclude !== undefined && t.lane.platform === exclude)) continue;
      if (!out.some((l) => l.key === t.lane.key)) out.push(t.lane);
    }
    return out;
  }

  private timer_(lane: string, group: string): GroupTimer {
    const key = `${lane}\u0000${group}`;
    let g = this.groups.get(key);
    if (!g) this.groups.set(key, (g = { lane, group }));
    return g;
  }

  /**
   * One message for every alert channel (the daily report): a post per chat lane, durable in the outbox.
   * Synchronous, so the caller can enqueue it inside the transaction that decided it (the report's slot
   * claim). Returns how many channels it went to.
   */
  publish(message: Message, key: string): number {
    const now = this.clock();
    const chat = [...this.lanes.values()].filter((t) => t.lane.type === 'chat');
    this.o.store.transaction(() => {
      for (const t of chat) this.outbox.enqueue(t.lane.key, 'post', key, message, now);
    });
    if (chat.length === 0) this.log.info({ key }, 'no Slack or Discord channel is configured: the report was not posted anywhere');
    // After the caller's transaction has committed: the runner reads the outbox from the same connection.
    setImmediate(() => this.runner.kick());
    return chat.length;
  }

  /** Records a lifecycle transition durably, before returning; delivery happens on the group's schedule. */
  handle(t: AlertTransition): void {
    this.record(t.alert, t.change);
  }

  private record(alert: Alert, change: AlertTransition['change'], exclude?: Platform): void {
    const now = this.clock();
    const lanes = this.lanesFor(alert, exclude);
    const requeue: { alert: Alert; lanes: Lane[] }[] = [];
    if (alert.status === 'resolved') {
      // The parent problem is gone: alerts it held back are notifiable again if they still fire.
      for (const rule of INHIBIT_RULES.filter((r) => r.source === alert.kind)) {
        for (const a of this.alerts.firingOfKinds(rule.targets)) requeue.push({ alert: a, lanes: this.lanesFor(a) });
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
      const g = this.timer_(lane.key, alert.kind);
      g.firstPendingAt ??= now;
      // Machine destinations (console, webhook) get a change at once unless one was just sent; see groupTiming.
      if (lane.type === 'sender') {
        const due = this.dueAt(g, lane);
        if (now >= due) {
          this.flushGroupNow(g, now);
          flushed = true;
        } else {
          this.wakeAt(due - now);
        }
      }
    }
    for (const r of requeue) for (const lane of r.lanes) this.timer_(lane.key, r.alert.kind).firstPendingAt ??= now;
    if (flushed) this.runner.kick();
  }

  /**
   * Grouping delays exist so people in chat are not spammed. Console and webhook consumers are programs (or a
   * terminal) that want each change as it happens: no group wait, and changes arriving within SENDER_BATCH_MS of a
   * send are batched into the next one so a storm is still a bounded number of requests.
   */
  private groupTiming(lane: Lane | undefined): { wait: number; interval: number } {
    if (lane?.type === 'sender') return { wait: 0, interval: SENDER_BATCH_MS };
    return { wait: this.o.config.HEADWATCH_GROUP_WAIT, interval: this.o.config.HEADWATCH_GROUP_INTERVAL };
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

  private dueAt(g: GroupTimer, lane: Lane | undefined): number {
    const { wait, interval } = this.groupTiming(lane);
    return Math.max((g.firstPendingAt ?? Infinity) + wait, (g.lastFlushAt ?? -Infinity) + interval);
  }

  private flushGroupNow(g: GroupTimer, now: number): void {
    const t = this.lanes.get(g.lane);
    g.firstPendingAt = undefined;
    g.lastFlushAt = now;
    if (!t) return;
    this.o.store.transaction(() => flushGroup(this.ctx, t.lane, g.group, now));
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
    this.checkPlatforms(now);
    this.scheduleRepeats(now);
    for (const g of this.groups.values()) {
      if (g.firstPendingAt === undefined) continue;
      if (now < this.dueAt(g, this.lanes.get(g.lane)?.lane)) continue;
      this.flushGroupNow(g, now);
    }
    for (const d of this.digests.toMaintain()) this.o.store.transaction(() => maintainDigest(this.ctx, d, now));
    const pending = this.outbox.pendingByLane();
    for (const key of this.lanes.keys()) this.o.metrics?.outboxPending.set({ destination: key }, pending.get(key) ?? 0);
    if (now - this.lastPrune > 3_600_000) {
      this.lastPrune = now;
      this.outbox.prune(now - 7 * 86_400_000);
    }
    this.runner.kick();
  }

  private scheduleRepeats(now: number): void {
    const due = this.ctx.log.dueRepeats(now - this.o.config.HEADWATCH_REPEAT_INTERVAL);
    if (due.length === 0) return;
    this.o.store.transaction(() => {
      for (const r of due) this.queue.add(r.lane, r.fingerprint, r.kind, 'repeat', now);
    });
    for (const r of due) this.timer_(r.lane, r.kind).firstPendingAt ??= now;
  }

  // --- self-monitoring ---------------------------------------------------------------------------------

  private checkPlatforms(now: number): void {
    const after = this.o.platformDownAfterMs ?? 60_000;
    for (const adapter of this.o.chat) {
      const st = adapter.status();
      this.o.metrics?.up.set({ dependency: adapter.platform }, st.connected ? 1 : 0);
      // Socket Mode hello, gateway READY, an HTTP-mode call answered again: what waited for this platform goes now.
      if (st.connected && this.seenSince.get(adapter.platform) !== st.since) this.runner.wakePlatform(adapter.platform);
      this.seenSince.set(adapter.platform, st.since);
      const d = this.down.get(adapter.platform);
      if (!st.connected) {
        if (!d) {
          this.down.set(adapter.platform, { since: now, reported: false });
          this.log.warn({ platform: adapter.platform, error: st.lastError }, `${adapter.platform} connection lost; reconnecting`);
        } else if (!d.reported && now - d.since >= after) {
          d.reported = true;
          this.log.error(
            { platform: adapter.platform, downForMs: now - d.since, error: st.lastError },
            `${adapter.platform} has been unreachable for ${formatDuration(now - d.since)}; alerts for it wait in the outbox. Check the network and the token.`,
          );
          this.record(this.platformAlert(adapter.platform, 'firing', d.since, now, st.lastError), 'firing', adapter.platform);
        }
      } else if (d) {
        this.down.delete(adapter.platform);
        this.log.info({ platform: adapter.platform, downForMs: now - d.since }, `${adapter.platform} connection is back`);
        if (d.reported) this.record(this.platformAlert(adapter.platform, 'resolved', d.since, now), 'resolved', adapter.platform);
      }
    }
  }

  private platformAlert(platform: Platform, status: 'firing' | 'resolved', since: number, now: number, error?: string): Alert {
    const name = platform === 'slack' ? 'Slack' : 'Discord';
    return {
      fingerprint: `platform-down:${platform}`,
      kind: 'platform-down',
      severity: 'critical',
      subject: platform,
      summary:
        status === 'firing'
          ? `${name} has been unreachable for ${formatDuration(now - since)}; its alerts are queued and will be delivered when it is back.`
          : `${name} is reachable again after ${formatDuration(now - since)}.`,
      evidence: error ? [error] : [],
      labels: {},
      status,
      startsAt: new Date(since).toISOString(),
      updatedAt: new Date(now).toISOString(),
      endsAt: status === 'resolved' ? new Date(now).toISOString() : null,
      occurrences: 1,
    };
  }

  status(): DispatcherStatus {
    const now = this.clock();
    const pending = this.outbox.pendingByLane();
    const storms = [...this.lanes.keys()].filter((k) => this.digests.get(k)?.active);
    return {
      platforms: this.o.chat.map((a) => {
        const st = a.status();
        const d = this.down.get(a.platform);
        const failing = [...this.runner.failing.entries()].find(([lane]) => lane.startsWith(`${a.platform}:`));
        return {
          ...st,
          ...(d ? { downForMs: now - d.since } : {}),
          ...(failing ? { deliveryError: failing[1].error } : {}),
        };
      }),
      outboxPending: Object.fromEntries(pending),
      suppressed: { ...this.counts },
      storms,
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
      markSilenced: (ref: MessageRef, fingerprint: string, note: string) => this.markSilenced(ref, fingerprint, note),
    };
  }

  /** Marks the alert message that carried the button; through the outbox to keep the lane's order. */
  private markSilenced(ref: MessageRef, fingerprint: string, note: string): void {
    const alert = this.alerts.get(fingerprint);
    const found = this.deliveries.findByMessage(ref.platform, ref.messageId);
    if (!alert || !found || !this.lanes.has(found.lane)) return;
    const now = this.clock();
    this.o.store.transaction(() => this.outbox.enqueue(found.lane, 'edit', found.refKey, alertMessage(alert, { now, silencedNote: note, commandName: this.o.config.HEADWATCH_COMMAND }), now));
    this.runner.kick();
  }
}
