import type { Logger } from '../log/logger.js';
import type { Metrics } from '../http/metrics.js';
import type { Finding } from '../parsers/finding.js';
import type { LineParser } from '../parsers/parser.js';
import { headscaleParser } from '../parsers/headscale.js';
import { tailscaleParser } from '../parsers/tailscale.js';
import type { ContainerRole, WatchedContainer } from '../sources/docker/types.js';
import type { RuleSet } from '../rules/matcher.js';

/** Where findings end up: the alert engine (its `ingest`). */
export interface FindingSink {
  ingest(f: Finding): void;
}

/** The Docker engine's reachability, as the Docker source reports it. */
export interface EngineStatus {
  reachable: boolean;
  error?: string;
  /** Several Docker hosts: which one, and where it is. */
  host?: string;
  where?: string;
}

export interface IngestOptions {
  sink: FindingSink;
  metrics: Metrics;
  logger: Logger;
  /** Which parser reads a container's lines; default: by role (Headscale or Tailscale log format). */
  parsers?: Partial<Record<ContainerRole, LineParser>>;
  /** User-defined log rules (HEADWATCH_RULES_FILE), run on every line beside the parser. */
  rules?: RuleSet;
  clock?: () => number;
}

const DEFAULT_PARSERS: Record<ContainerRole, LineParser> = { headscale: headscaleParser, tailscale: tailscaleParser };

/**
 * The one path every observation takes into the alert engine: log lines (parsed by the container's parser and
 * counted in `headwatch_log_lines_total`), dropped lines (counted), findings from sources (CPU samples, container
 * states, API polls, version probes) and the Docker engine's reachability. Sources hand their output here and
 * know nothing of parsers or detectors; taps (the version probe) see every finding after the engine did.
 */
export class Ingest {
  private readonly parsers: Record<ContainerRole, LineParser>;
  private readonly taps: ((f: Finding) => void)[] = [];
  private readonly clock: () => number;

  constructor(private readonly o: IngestOptions) {
    this.parsers = { ...DEFAULT_PARSERS, ...o.parsers };
    this.clock = o.clock ?? Date.now;
  }

  /** One complete log line read from a watched container at `at` (ms epoch). */
  line(container: WatchedContainer, line: string, at: number): void {
    const finding = this.parsers[container.role].parse(line, at, container.name);
    this.o.metrics.logLines.inc({ source: container.role, result: finding ? 'parsed' : 'unknown' });
    if (finding) this.finding(finding);
    const matched = this.o.rules?.match(container, line, at);
    if (matched) for (const f of matched) this.finding(f);
  }

  /** A line the source dropped before parsing (oversized, binary, invalid UTF-8). */
  skipped(container: WatchedContainer, reason: string): void {
    this.o.metrics.logLines.inc({ source: container.role, result: 'skipped' });
    this.o.logger.debug({ container: container.name, reason }, 'log line skipped');
  }

  /** A finding a source made itself (not from a log line). */
  finding(f: Finding): void {
    this.o.sink.ingest(f);
    for (const tap of this.taps) tap(f);
  }

  /** The Docker engine became reachable or unreachable: the `up` gauge and the self-monitoring detector. */
  dockerStatus(s: EngineStatus): void {
    // With several hosts the Docker sources keep the gauge: up only when every host is.
    if (s.host === undefined) this.o.metrics.up.set({ dependency: 'docker' }, s.reachable ? 1 : 0);
    this.finding({
      kind: 'docker-status',
      at: this.clock(),
      origin: s.host === undefined ? 'docker' : `docker:${s.host}`,
      reachable: s.reachable,
      ...(s.host !== undefined ? { host: s.host } : {}),
      ...(s.where !== undefined ? { where: s.where } : {}),
      ...(s.error ? { error: s.error } : {}),
    });
  }

  /** Lets a part react to findings without being a detector (the version probe re-asks a restarted container). */
  tap(listener: (f: Finding) => void): void {
    this.taps.push(listener);
  }
}
