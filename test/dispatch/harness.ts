import type { Alert, AlertKind, AlertTransition, Severity } from '../../src/alerts/model.js';
import { DiscordAdapter } from '../../src/adapters/discord/adapter.js';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { Dispatcher, type DispatcherConfig } from '../../src/dispatch/dispatcher.js';
import { AlertBatchDestination, type Destination } from '../../src/destinations/destination.js';
import { slackDestination } from '../../src/adapters/slack/platform.js';
import { discordDestination } from '../../src/adapters/discord/platform.js';
import { Metrics } from '../../src/http/metrics.js';
import { Store } from '../../src/store/db.js';
import { storeTarget } from '../support/postgres.js';
import { APP_ID, CHANNEL_ID, FakeDiscord, GUILD_ID } from '../fakes/discord/server.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { quietLogger, tmpDb } from '../adapters/helpers.js';
import { COMMANDS } from '../../commands/index.js';
import { loadConfig } from '../../src/config/load.js';
import { CommandRouter } from '../../src/interaction/router.js';
import type { HeadscaleApi } from '../../src/sources/headscale/types.js';
import { staticContainers } from '../interaction/harness.js';

export const SLACK_CHANNEL = 'C0ALERTS';
/** Real time (rounded): the fakes stamp messages with the real clock, and Slack look-ups compare against it. */
export const T0 = Math.floor(Date.now() / 60_000) * 60_000;

/** A console-like destination that records every batch (the console and webhook destinations have this shape). */
export class RecordingSender extends AlertBatchDestination {
  batches: Alert[][] = [];
  failNext: Error[] = [];
  constructor(readonly name = 'console') {
    super();
  }
  async send(alerts: Alert[]): Promise<void> {
    const err = this.failNext.shift();
    if (err) throw err;
    this.batches.push(alerts);
  }
}

export function alert(kind: AlertKind, subject: string, over: Partial<Alert> = {}, at = T0): Alert {
  return {
    fingerprint: `${kind}:${subject}`,
    kind,
    severity: 'warning' as Severity,
    subject,
    summary: `${kind} on ${subject}`,
    evidence: [],
    labels: {},
    status: 'firing',
    startsAt: new Date(at).toISOString(),
    updatedAt: new Date(at).toISOString(),
    endsAt: null,
    occurrences: 1,
    ...over,
  };
}

export function firing(a: Alert, at: number): AlertTransition {
  return { change: 'firing', alert: { ...a, status: 'firing', endsAt: null }, at };
}
export function updated(a: Alert, at: number, over: Partial<Alert> = {}): AlertTransition {
  return { change: 'updated', alert: { ...a, ...over, updatedAt: new Date(at).toISOString() }, at };
}
export function resolved(a: Alert, at: number): AlertTransition {
  return { change: 'resolved', alert: { ...a, status: 'resolved', endsAt: new Date(at).toISOString(), updatedAt: new Date(at).toISOString() }, at };
}

export interface HarnessOptions {
  slack?: boolean;
  discord?: boolean;
  config?: Partial<DispatcherConfig>;
  platformDownAfterMs?: number;
}

/** Real SQLite file, real adapters against the fakes, injected clock. `restart()` = new instances, same file. */
export class Harness {
  now = T0;
  readonly clock = () => this.now;
  readonly db = tmpDb();
  /** The SQLite file, or a PostgreSQL database with HEADWATCH_TEST_STORE=postgres; the same across reboots. */
  private storeAt: string | undefined;
  readonly fakeSlack = new FakeSlack({ botToken: 'xoxb-harness' });
  readonly fakeDiscord = new FakeDiscord({ token: 'discord-harness' });
  sender = new RecordingSender('console');
  store!: Store;
  metrics!: Metrics;
  slack?: SlackAdapter;
  discord?: DiscordAdapter;
  dispatcher!: Dispatcher;
  router?: CommandRouter;

  constructor(readonly o: HarnessOptions = {}) {}

  config(): DispatcherConfig {
    return {
      HEADWATCH_ROUTES: undefined,
      HEADWATCH_GROUP_WAIT: 1000,
      HEADWATCH_GROUP_INTERVAL: 10_000,
      HEADWATCH_REPEAT_INTERVAL: 3_600_000,
      HEADWATCH_CHANNEL_BUDGET: 10,
      ...this.o.config,
    };
  }

  async start(): Promise<this> {
    if (this.o.slack !== false) await this.fakeSlack.start();
    if (this.o.discord) await this.fakeDiscord.start();
    await this.boot();
    return this;
  }

  private async boot(): Promise<void> {
    this.storeAt ??= storeTarget(this.db.path);
    this.store = new Store(this.storeAt);
    this.metrics = new Metrics({ processMetrics: false });
    const destinations: Destination[] = [this.sender];
    if (this.o.slack !== false) {
      this.slack = new SlackAdapter({ botToken: 'xoxb-harness', signingSecret: 's', apiUrl: this.fakeSlack.apiUrl, logger: quietLogger() });
      await this.slack.start();
      destinations.push(slackDestination(this.slack, SLACK_CHANNEL));
    }
    if (this.o.discord) {
      this.discord = new DiscordAdapter({ token: 'discord-harness', applicationId: APP_ID, guildId: GUILD_ID, apiUrl: this.fakeDiscord.apiUrl, logger: quietLogger() });
      await this.discord.start();
      await this.fakeDiscord.waitFor(() => this.discord!.status().connected);
      destinations.push(discordDestination(this.discord, CHANNEL_ID));
    }
    this.dispatcher = new Dispatcher({
      store: this.store,
      config: this.config(),
      logger: quietLogger(),
      metrics: this.metrics,
      destinations,
      clock: this.clock,
      ...(this.o.platformDownAfterMs ? { platformDownAfterMs: this.o.platformDownAfterMs } : {}),
    });
  }

  /**
   * Clicks and slash commands on both adapters go to the real command router over the dispatcher's silences,
   * as in the app. `env` sets the roles (HEADWATCH_OPERATORS…); none by default.
   */
  routeInteractions(env: Record<string, string> = {}): CommandRouter {
    // Settings with operators but nobody to approve their requests are refused at load: give them an approver.
    const approvers = env['HEADWATCH_OPERATORS'] && !env['HEADWATCH_APPROVERS'] ? { HEADWATCH_APPROVERS: 'slack:U0APPROVER,discord:1200000000000000099' } : {};
    const config = loadConfig({ dotenvPath: false, env: { HEADWATCH_DB: this.db.path, ...approvers, ...env } });
    const noHeadscale = new Proxy({} as HeadscaleApi, {
      get: (_t, name) => async () => {
        throw new Error(`no Headscale in the dispatcher harness (${String(name)})`);
      },
    });
    this.router = new CommandRouter({
      config,
      store: this.store,
      commands: COMMANDS,
      headscale: noHeadscale,
      docker: staticContainers([]),
      silences: this.dispatcher.silenceControl(),
      alerts: () => [],
      logger: quietLogger(),
      clock: this.clock,
    });
    this.slack?.setHandler(this.router);
    this.discord?.setHandler(this.router);
    return this.router;
  }

  /** Stops dispatcher and adapters and builds new ones over the same SQLite file (a restart). */
  async restart(): Promise<void> {
    await this.shutdown();
    this.sender = new RecordingSender(this.sender.name);
    await this.boot();
  }

  private async shutdown(): Promise<void> {
    await this.router?.stop();
    await this.dispatcher.stop();
    await this.slack?.stop();
    await this.discord?.stop();
    this.store.close();
  }

  /** Moves the injected clock and runs whatever became due. */
  async advance(ms: number): Promise<void> {
    this.now += ms;
    await this.dispatcher.flush();
  }

  slackPosts() {
    return this.fakeSlack.channelMessages(SLACK_CHANNEL);
  }

  async close(): Promise<void> {
    await this.shutdown();
    if (this.o.slack !== false) await this.fakeSlack.stop();
    if (this.o.discord) await this.fakeDiscord.stop();
    this.db.cleanup();
  }
}

export function text(blocks: unknown): string {
  return JSON.stringify(blocks);
}
