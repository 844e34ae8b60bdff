import type { Logger } from 'pino';
import type { Config } from './config/schema.js';
import { createLogger } from './log/logger.js';
import type { Store } from './store/db.js';
import { openStore } from './store/open.js';
import { LeaderElection, type Role } from './replicas/leader.js';
import { leaderOnly, standbyAware } from './replicas/gates.js';
import { ConfigError } from './config/errors.js';
import { AlertRepository } from './store/alerts.js';
import { RequestSignatures } from './store/request-signatures.js';
import { AlertLifecycle } from './alerts/lifecycle.js';
import { AlertEngine } from './alerts/engine.js';
import type { AlertTransition } from './alerts/model.js';
import type { Finding } from './parsers/finding.js';
import { DockerHosts } from './sources/docker/hosts.js';
import { dockerHosts } from './config/docker-hosts.js';
import { Ingest } from './ingest/ingest.js';
import { buildDetectors } from './detectors/build.js';
import type { FlappingDetector } from './detectors/flapping.js';
import { Insights } from './insights.js';
import { DockerControl } from './actions/docker-control.js';
import type { ContainerControl } from './actions/containers.js';
import { Metrics } from './http/metrics.js';
import { startHttpServer, type RouteHandler } from './http/server.js';
import { readinessChecks } from './http/readiness.js';
import { ConsoleDestination } from './destinations/console.js';
import { buildIncidents, type Incidents } from './incidents/build.js';
import type { Destination } from './destinations/destination.js';
import { Dispatcher } from './dispatch/dispatcher.js';
import type { ChatAdapter, Platform } from './adapters/chat.js';
import { alertChannelsOf, configuredChatPlatforms } from './adapters/configured.js';
import { CommandRouter } from './interaction/router.js';
import { COMMANDS } from '../commands/index.js';
import type { HeadscaleApi, HsNode } from './sources/headscale/types.js';
import { unconfiguredHeadscale } from './sources/headscale/unconfigured.js';
import { HeadscaleClient } from './sources/headscale/client.js';
import { HeadscalePoller } from './sources/headscale/poller.js';
import { VersionProbe } from './sources/headscale/version-probe.js';
import { HeadscaleMetricsScraper } from './sources/headscale/metrics.js';
import { loadRules, RulesError, type LogRule } from './rules/load.js';
import { RuleSet } from './rules/matcher.js';
import { RuleDetector } from './rules/detector.js';
import { TailnetEventsState } from './store/tailnet-events.js';
import { LogCursors } from './store/log-cursors.js';
import { LogCursorKeeper } from './sources/docker/cursor-keeper.js';

export interface HeadwatchOptions {
  config: Config;
  logger?: Logger;
  /** Where the console notifier writes (default stdout). */
  consoleOut?: { write(s: string): unknown };
  clock?: () => number;
  /**
   * Replicas on PostgreSQL: this leader lost its lease and has stopped sending. main.ts ends the process (its
   * supervisor restarts it as a standby); without this option the app stops itself.
   */
  onDeposed?: (reason: string) => void;
}

export interface Headwatch {
  readonly config: Config;
  readonly logger: Logger;
  readonly store: Store;
  readonly metrics: Metrics;
  readonly engine: AlertEngine;
  readonly alerts: AlertRepository;
  /** Every Docker host's source (one with DOCKER_HOST). */
  readonly docker: DockerHosts;
  /** Restart and exec for actions (commands, playbooks), over the containers `docker` watches. */
  readonly control: ContainerControl;
  readonly flapping: FlappingDetector;
  readonly headscale?: HeadscaleClient;
  readonly dispatcher: Dispatcher;
  readonly router: CommandRouter;
  readonly chat: ChatAdapter[];
  readonly poller?: HeadscalePoller;
  /** Port the HTTP server listens on (after start). */
  httpPort: number;
  /** 'leader' runs the watchers, the dispatcher and chat; a 'standby' (replicas on PostgreSQL) waits for the lease. */
  role(): Role;
  /** Feed a finding directly (tests, other sources). */
  ingest(f: Finding): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Composition root: builds the parts and connects them, nothing else. Each part is built after the part it hands
 * data to, so the file reads the watch flow backwards from where alerts end up: store → destinations and dispatch →
 * detectors and engine → ingest → sources; then the interaction side (commands → router → chat) and HTTP.
 * It is longer than a function should be because it is the one list of every part and its wiring; whatever
 * decides something (detector settings, readiness rules) lives in the helpers below it.
 */
export async function createHeadwatch(opts: HeadwatchOptions): Promise<Headwatch> {
  const config = opts.config;
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const clock = opts.clock ?? Date.now;
  const metrics = new Metrics();

  const store = openStore(config, logger);
  const alerts = new AlertRepository(store);
  // show: CPU history for charts, activity counts and the daily report
  const insights = new Insights({ config, store, logger, clock });

  // deliver: destinations, and the dispatcher deciding what reaches them
  const destinations: Destination[] = [];
  // Built once the sources exist (below); until then nothing is a member of an incident.
  let incidents: Incidents | undefined;
  const incidentOf = (fingerprint: string) => incidents?.lookup(fingerprint);
  if (config.HEADWATCH_CONSOLE) destinations.push(new ConsoleDestination(opts.consoleOut, { commandName: config.HEADWATCH_COMMAND, incidentOf }));
  // Loaded only when configured (its HTTP client is a start-up cost the console-only default should not pay).
  if (config.HEADWATCH_WEBHOOK_URL) {
    const { WebhookDestination } = await import('./destinations/webhook.js');
    destinations.push(new WebhookDestination({ url: config.HEADWATCH_WEBHOOK_URL, secret: config.HEADWATCH_WEBHOOK_SECRET, commandName: config.HEADWATCH_COMMAND, incidentOf }));
  }
  const platforms = await configuredChatPlatforms(config, logger, new RequestSignatures(store), metrics);
  destinations.push(...platforms.map((p) => p.destination));
  const chat: ChatAdapter[] = platforms.map((p) => p.adapter);
  // Tailscale-style event webhooks: their own outbox lane, fed from every finding below.
  const eventsModules = config.HEADWATCH_EVENTS_URL ? await Promise.all([import('./events/sender.js'), import('./events/service.js')]) : undefined;
  const eventsDestination =
    eventsModules && new eventsModules[0].EventsDestination(new eventsModules[0].EventsSender({ url: config.HEADWATCH_EVENTS_URL!, secret: config.HEADWATCH_EVENTS_SECRET, clock }));
  const dispatcher = new Dispatcher({ store, config, logger, metrics, destinations, clock, imageFor: (a) => insights.charts.imageFor(a), ...(eventsDestination ? { events: eventsDestination } : {}) });

  // alert: detectors judge findings, the engine keeps the alerts' lifecycle and hands transitions on
  // A bad rules file stops the start like any other bad setting (main exits 2 on ConfigError).
  let rules: LogRule[] = [];
  if (config.HEADWATCH_RULES_FILE) {
    try {
      rules = loadRules(config.HEADWATCH_RULES_FILE);
    } catch (err) {
      if (err instanceof RulesError) throw new ConfigError(err.problems.map((p) => `HEADWATCH_RULES_FILE ${err.file}: ${p}`));
      throw err;
    }
  }
  const { detectors, flapping } = buildDetectors(config, insights);
  if (rules.length > 0) detectors.push(new RuleDetector(rules));
  const engine = new AlertEngine({
    detectors,
    lifecycle: new AlertLifecycle(alerts),
    repo: alerts,
    metrics,
    logger,
    clock,
    // The log cursor is written with the detectors' state, so a restart replays exactly what they did not see.
    onPersisted: () => cursorKeeper.flush(),
    onTransition: (t: AlertTransition) => {
      insights.onTransition(t);
      // Correlated first, so the dispatcher knows the alert is shown in its incident's message.
      incidents?.handle(t);
      dispatcher.handle(t);
    },
  });
  engine.restore();

  // watch: sources hand lines and findings to the one ingest path; each log resumes where it was left (the log cursor)
  const logCursors = new LogCursors(store);
  const ingest = new Ingest({ sink: engine, metrics, logger, clock, ...(rules.length > 0 ? { rules: new RuleSet(rules) } : {}) });
  const hosts = dockerHosts(config);
  const docker = new DockerHosts({
    hosts,
    headscaleContainer: config.HEADSCALE_CONTAINER,
    tailscaleContainers: config.TAILSCALE_CONTAINERS,
    cpuSampleMs: config.CPU_SAMPLE_SECONDS * 1000,
    logger,
    metrics,
    onLine: (c, line, at) => ingest.line(c, line, at),
    onSkipped: (c, reason) => ingest.skipped(c, reason),
    onFinding: (f) => ingest.finding(f),
    onStatus: (s) => ingest.dockerStatus(s),
    logCursor: { saved: (host, name) => logCursors.position(host, name), catchupMaxMs: config.HEADWATCH_LOG_CATCHUP_MAX },
    clock,
  });
  // One keeper per host: a cursor is keyed by host name + container name on that host.
  const keepers = docker.sources.map((s) => new LogCursorKeeper({ host: s.hostName, source: s, cursors: logCursors, everyMs: 1000, logger, clock }));
  const cursorKeeper = {
    flush: () => keepers.forEach((k) => k.flush()),
    start: () => keepers.forEach((k) => k.start()),
    stop: () => keepers.forEach((k) => k.stop()),
  };
  const control = new DockerControl({ hosts, containers: docker });
  const versionProbe = new VersionProbe({ control, logger, onFinding: (f) => ingest.finding(f) });
  ingest.tap((f) => versionProbe.observe(f));
  ingest.tap((f) => insights.observe(f));
  const events = eventsModules
    ? new eventsModules[1].EventsService({
        tailnet: config.HEADWATCH_EVENTS_TAILNET ?? new URL(config.HEADSCALE_URL).hostname,
        debounceMs: config.HEADWATCH_EVENTS_DEBOUNCE,
        state: new TailnetEventsState(store),
        queue: (batch, alongside) => dispatcher.publishEvents(batch, alongside),
        logger,
        clock,
      })
    : undefined;
  if (events) ingest.tap((f) => events.observe(f));
  // A new Headscale container may be a new release (an image upgrade): detect it again now.
  ingest.tap((f) => {
    if (f.kind === 'container-state' && f.state === 'start' && f.role === 'headscale') poller?.redetect();
  });
  const headscale = config.HEADSCALE_API_KEY
    ? new HeadscaleClient({ url: config.HEADSCALE_URL, apiKey: config.HEADSCALE_API_KEY, timeoutMs: config.HEADSCALE_TIMEOUT_SECONDS * 1000, logger })
    : undefined;
  const poller = headscale
    ? new HeadscalePoller({
        api: headscale,
        intervalMs: config.HEADSCALE_POLL_SECONDS * 1000,
        redetectMs: config.HEADSCALE_REDETECT,
        watchPolicy: events !== undefined,
        logger,
        metrics,
        onFinding: (f) => ingest.finding(f),
        memory: {
          load: () => alerts.loadDetectorState('headscale-poller:nodes') as HsNode[] | undefined,
          save: (nodes) => alerts.saveDetectorState('headscale-poller:nodes', nodes, new Date(clock())),
        },
      })
    : undefined;
  if (config.HEADWATCH_INCIDENTS) {
    const built = buildIncidents({
      config,
      store,
      logger,
      clock,
      watched: () => docker.watched(),
      clientFor: (host) => docker.sources.find((s) => s.hostName === host)?.client,
      nodes: () => poller?.nodes() ?? [],
      alerts,
      silences: dispatcher.silences,
      channels: dispatcher,
      onIncident: (change, scope, at) => insights.recorder.incident(change, scope, at),
      imageFor: (a) => insights.charts.imageFor(a),
    });
    incidents = built;
    ingest.tap((f) => built.observe(f));
    dispatcher.keepOffChat((a) => built.isMember(a));
  }
  const metricsScraper = config.HEADSCALE_METRICS_URL
    ? new HeadscaleMetricsScraper({
        url: config.HEADSCALE_METRICS_URL,
        intervalMs: config.HEADSCALE_POLL_SECONDS * 1000,
        timeoutMs: config.HEADSCALE_TIMEOUT_SECONDS * 1000,
        logger,
        onFinding: (f) => ingest.finding(f),
        apiNodeCount: () => (poller && poller.status().reachable ? poller.nodes().length : undefined),
      })
    : undefined;

  // interact: chat adapters hand commands and clicks to the router
  const adapterFor = (platform: Platform): ChatAdapter => {
    const a = chat.find((c) => c.platform === platform);
    if (!a) throw new Error(`${platform} is not configured`);
    return a;
  };
  const reports = insights.reports({
    headscale: headscale ?? unconfiguredHeadscale(),
    server: () => poller?.status().server,
    publish: (m, key) => dispatcher.publish(m, key),
    incidents: config.HEADWATCH_INCIDENTS,
  });
  const router = new CommandRouter({
    report: async () => (await reports.build()).message,
    reportNextRun: () => reports.nextRun(),
    config,
    commands: COMMANDS,
    store,
    headscale: headscale ?? unconfiguredHeadscale(),
    docker: control,
    silences: incidents ? incidents.silences(dispatcher.silenceControl()) : dispatcher.silenceControl(),
    alerts: () => alerts.firing(),
    flapCounts: (nodeId) => flapping.flapsInWindow(nodeId, clock()),
    status: () => ({
      lines: [
        ...(docker.several
          ? docker.hosts().map((h) => ({ label: `Docker ${h.host}`, value: h.reachable ? 'reachable' : `unreachable: ${h.error ?? 'no answer'}` }))
          : [{ label: 'Docker', value: docker.status().reachable ? 'reachable' : `unreachable: ${docker.status().error ?? 'no answer'}` }]),
        ...dispatcher.status().platforms.map((p) => ({ label: p.platform, value: p.connected ? 'connected' : `disconnected${p.lastError ? `: ${p.lastError}` : ''}` })),
      ],
    }),
    logger,
    clock,
    metrics,
    editMessage: (ref, m) => adapterFor(ref.platform).edit(ref, m),
    // Slack and Discord both configured: an approval request is shown (and can be voted on) in both alert channels.
    postMessage: (platform, channelId, m) => adapterFor(platform).send(channelId, m),
    alertChannels: alertChannelsOf(config, chat),
    directMessage: async (platform, userId, m) => {
      await adapterFor(platform).directMessage(userId, m);
    },
    ...(incidents ? { incidents: incidents.service } : {}),
  });
  for (const a of chat) a.setHandler(router);

  // Replicas on PostgreSQL: only the holder of the leader lease watches, dispatches and talks to chat.
  let working = false;
  const startWork = async () => {
    working = true;
    engine.start();
    dispatcher.start();
    router.start();
    // Watching never waits on chat: adapters connect in the background and retry with bounded backoff; an outage
    // is reported on the other destinations (platform-down) and their alerts wait in the outbox.
    for (const a of chat) void a.start().catch((err: Error) => logger.error({ platform: a.platform }, `could not connect: ${err.message}`));
    await docker.start();
    cursorKeeper.start();
    await insights.start();
    await incidents?.start();
    versionProbe.start();
    metricsScraper?.start();
    events?.start();
    if (poller) poller.start();
    else logger.warn('HEADSCALE_API_KEY is not set: node state, key expiry and API reachability are not watched (logs still are)');
  };
  const election =
    store.dialect === 'postgres'
      ? new LeaderElection({
          store,
          logger,
          ttlMs: config.HEADWATCH_LEASE_TTL,
          renewMs: config.HEADWATCH_LEASE_RENEW,
          onRole: (r) => metrics.leader.set(r === 'leader' ? 1 : 0),
          onElected: startWork,
          onDeposed: (reason) => (opts.onDeposed ? opts.onDeposed(reason) : void app.stop()),
        })
      : undefined;
  // A standby's outbox claims always fail (epoch 0 is never a lease's), so nothing it might flush is sent.
  if (election) store.fence = { holder: election.holder, epoch: 0 };
  metrics.leader.set(election ? 0 : 1);
  const role = (): Role => election?.currentRole ?? 'leader';
  const checks = standbyAware(readinessChecks({ docker, store, chat, poller }), role);
  let http: Awaited<ReturnType<typeof startHttpServer>> | undefined;
  let stopped = false;

  const app: Headwatch = {
    config,
    logger,
    store,
    metrics,
    engine,
    alerts,
    docker,
    control,
    flapping,
    headscale,
    poller,
    dispatcher,
    router,
    chat,
    httpPort: 0,
    role,
    ingest: (f) => ingest.finding(f),
    async start() {
      // Chat HTTP routes (Slack HTTP mode): only the leader acts on chat; a standby answers 503 so the platform retries.
      const routes: Record<string, RouteHandler> = {};
      for (const [path, handler] of Object.entries(Object.assign({}, ...platforms.map((p) => p.httpRoutes)) as Record<string, RouteHandler>)) routes[path] = leaderOnly(handler, role);
      http = await startHttpServer({ host: config.HEADWATCH_HTTP_HOST, port: config.HEADWATCH_HTTP_PORT, metrics, checks, routes, readyInfo: () => ({ role: role() }) });
      app.httpPort = http.port;
      if (election) {
        election.start();
        logger.info({ httpPort: http.port, db: store.where, holder: election.holder }, 'headwatch started as a replica: standby until it holds the leader lease');
        return;
      }
      await startWork();
      logger.info({ httpPort: http.port, db: store.where, notifiers: destinations.map((d) => d.name) }, 'headwatch started');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (!working) {
        election?.stop();
        if (http) await http.close();
        store.close();
        logger.info('headwatch stopped (standby)');
        return;
      }
      if (poller) poller.stop();
      await metricsScraper?.stop();
      versionProbe.stop();
      await docker.stop();
      control.stop();
      engine.stop(); // saves the detectors' state, and with it the log cursor
      cursorKeeper.stop();
      incidents?.stop();
      events?.stop();
      await insights.stop();
      await router.stop();
      await Promise.race([dispatcher.flush(), new Promise((r) => setTimeout(r, 2000).unref())]);
      await dispatcher.stop();
      await Promise.all(chat.map((a) => a.stop().catch(() => undefined)));
      // Given back only now that nothing sends any more, so the next leader starts at its next poll.
      election?.stop();
      if (http) await http.close();
      store.close();
      logger.info('headwatch stopped');
    },
  };
  return app;
}
