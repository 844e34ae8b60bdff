import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * All Prometheus series headwatch exposes, on a registry per instance (tests run several instances in one
 * process). Components receive this object and increment what they own.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly logLines = new Counter({
    name: 'headwatch_log_lines_total',
    help: 'Log lines read, by source container role and result (parsed = produced a finding, unknown = no rule matched, skipped = malformed/oversized/binary).',
    labelNames: ['source', 'result'] as const,
    registers: [this.registry],
  });

  readonly alerts = new Gauge({
    name: 'headwatch_alerts',
    help: 'Stored alerts by kind and status.',
    labelNames: ['kind', 'status'] as const,
    registers: [this.registry],
  });

  readonly alertTransitions = new Counter({
    name: 'headwatch_alert_transitions_total',
    help: 'Alert lifecycle changes (firing, updated, resolved) by kind.',
    labelNames: ['kind', 'change'] as const,
    registers: [this.registry],
  });

  readonly notifierFailures = new Counter({
    name: 'headwatch_notifier_failures_total',
    help: 'Failed delivery attempts by notifier (each retry counts).',
    labelNames: ['notifier'] as const,
    registers: [this.registry],
  });

  readonly notifications = new Counter({
    name: 'headwatch_notifications_total',
    help: 'Successful deliveries by notifier.',
    labelNames: ['notifier'] as const,
    registers: [this.registry],
  });

  readonly cpuSamples = new Counter({
    name: 'headwatch_cpu_samples_total',
    help: 'CPU samples taken per container.',
    labelNames: ['container'] as const,
    registers: [this.registry],
  });

  readonly containerCpu = new Gauge({
    name: 'headwatch_container_cpu_percent',
    help: 'Latest CPU sample per watched container, percent of its allowance.',
    labelNames: ['container'] as const,
    registers: [this.registry],
  });

  readonly up = new Gauge({
    name: 'headwatch_dependency_up',
    help: '1 when a dependency is reachable (docker, headscale, slack, discord, store), else 0.',
    labelNames: ['dependency'] as const,
    registers: [this.registry],
  });

  readonly dockerHostUp = new Gauge({
    name: 'headwatch_docker_host_up',
    help: '1 when the Docker engine of this host (HEADWATCH_DOCKER_HOSTS name, local for DOCKER_HOST) answers, else 0.',
    labelNames: ['host'] as const,
    registers: [this.registry],
  });

  readonly cpuPollSeconds = new Histogram({
    name: 'headwatch_docker_cpu_poll_seconds',
    help: 'Wall time of one CPU sampling round over the watched containers of a Docker host.',
    labelNames: ['host'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly outboxPending = new Gauge({
    name: 'headwatch_outbox_pending',
    help: 'Deliveries recorded but not yet confirmed, by destination.',
    labelNames: ['destination'] as const,
    registers: [this.registry],
  });

  readonly notificationsSuppressed = new Counter({
    name: 'headwatch_notifications_suppressed_total',
    help: 'Alert notifications held back, by reason (silenced, inhibited, deduplicated, folded into a storm digest).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly leader = new Gauge({
    name: 'headwatch_leader',
    help: '1 on the replica that holds the leader lease (watching, dispatching, chat), 0 on a standby. Always 1 on a SQLite file.',
    registers: [this.registry],
  });

  readonly commandLatency = new Histogram({
    name: 'headwatch_command_ack_seconds',
    help: 'Time from a slash command arriving to its acknowledgement.',
    labelNames: ['platform'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 3],
    registers: [this.registry],
  });

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'headwatch_' });
  }
}
