import type { HsNode, ServerInfo } from '../sources/headscale/types.js';

/**
 * A Finding is one observed fact with a time and a subject. Sources and parsers produce findings; they know
 * nothing about thresholds. Detectors turn streams of findings into alerts.
 *
 * `at` is milliseconds since the epoch (the time the line was read or the sample taken, not a time parsed
 * from the line: log timestamps are in the container's zone and may be absent).
 * `origin` names where the fact came from: a container name, or `headscale-api`.
 */
export type Finding =
  | NodeSessionFinding
  | UnsupportedClientFinding
  | ProxyNoUpgradeFinding
  | NoiseUpgradeFailedFinding
  | ServerVersionFinding
  | ServerMinimumClientFinding
  | TlsUrlMismatchFinding
  | RateLimitFinding
  | ControlErrorFinding
  | MapPollTimeoutFinding
  | Forced443Finding
  | HealthFinding
  | BootFinding
  | CpuSampleFinding
  | ClientVersionFinding
  | ContainerStateFinding
  | ContainerInventoryFinding
  | ApiStatusFinding
  | DockerStatusFinding
  | NodeInventoryFinding
  | NodeLifecycleFinding
  | MapStreamErrorFinding
  | ApiKeyRejectedFinding
  | TlsErrorFinding
  | IpnStateFinding
  | HeadscaleMetricsFinding
  | RuleMatchFinding
  | PolicyFinding;

interface Base {
  at: number;
  origin: string;
  /** The raw line that produced this finding, capped in length (evidence for the alert). */
  line?: string;
}

/**
 * A node's control session opened or closed. `session` pairs the two ends where the release logs one
 * (0.23–0.28 `chan` pointer, 0.29 `chan` field); a disconnect whose session is not the node's current one is
 * a replaced session, not the node going away.
 */
export interface NodeSessionFinding extends Base {
  kind: 'node-connected' | 'node-disconnected';
  nodeId: string;
  nodeName?: string;
  session?: string;
  /**
   * Which line family produced it: `state` (node connected), `poll` (node has connected), `legacy` (0.22 and
   * early 0.23 builds), `batcher` (0.27+ batcher debug lines; no session id), `api` (the node list) or `debug`
   * (the /debug/batcher connected-node list). `api` and `debug` are polled views that lag the log.
   */
  via: 'state' | 'poll' | 'legacy' | 'batcher' | 'api' | 'debug';
}

export interface UnsupportedClientFinding extends Base {
  kind: 'unsupported-client';
  clientVersion?: string;
  clientCapVer?: number;
  minimumVersion?: string;
  minimumCapVer?: number;
}

export interface ProxyNoUpgradeFinding extends Base {
  kind: 'proxy-no-upgrade';
  /** `ts2021` (control) or `derp` (embedded DERP). */
  endpoint: 'ts2021' | 'derp';
}

export interface NoiseUpgradeFailedFinding extends Base {
  kind: 'noise-upgrade-failed';
  cause: string;
}

export interface ServerVersionFinding extends Base {
  kind: 'server-version';
  version: string;
  commit?: string;
}

export interface ServerMinimumClientFinding extends Base {
  kind: 'server-minimum-client';
  minimumVersion: string;
}

export interface TlsUrlMismatchFinding extends Base {
  kind: 'tls-url-mismatch';
  message: string;
}

export interface RateLimitFinding extends Base {
  kind: 'ratelimit';
  /** The Go format string, unescaped (`control: [v\u0000JSON]%d%s`). */
  format: string;
  /** `(N dropped)`; 0 when the line had no count. */
  dropped: number;
}

/** What a client-side control error is evidence of (classified by the Tailscale parser). */
export type ControlErrorClass = 'auth' | 'tls' | 'proxy' | 'other';

/**
 * A Tailscale client failing to talk to control: `Received error: …` (LocalBackend) or
 * `control: lite map update error after …: …` (endpoint/hostinfo updates).
 */
export interface ControlErrorFinding extends Base {
  kind: 'control-error';
  error: string;
  via: 'received-error' | 'lite-map-update';
  class: ControlErrorClass;
  /** Control host named in the error (`Post "https://host:port/…"`), when there is one. */
  peer?: string;
}

export interface MapPollTimeoutFinding extends Base {
  kind: 'map-poll-timeout';
}

export interface Forced443Finding extends Base {
  kind: 'forced-443';
}

export interface HealthFinding extends Base {
  kind: 'health';
  warnable: string;
  ok: boolean;
  text?: string;
}

export interface BootFinding extends Base {
  kind: 'boot';
  message: string;
  /** Recognised containerboot milestones. */
  event?: 'starting' | 'startup-complete' | 'left-running' | 'auth-failed' | 'needs-login' | 'shutdown';
}

export interface CpuSampleFinding extends Base {
  kind: 'cpu-sample';
  /**
   * Percent of the container's CPU limit when it has one (100 = all of the limit); without a limit, percent
   * of one core as `docker stats` shows it (200 = two cores busy).
   */
  percent: number;
  /** CPUs the percent is relative to (the limit when one is set). */
  cpus: number;
  /** The container's CPU limit in CPUs (`--cpus`, CFS quota); absent when none is set. */
  limit?: number;
}

export interface ClientVersionFinding extends Base {
  kind: 'client-version';
  version: string;
  nodeId?: string;
}

/**
 * A watched container started, died, was recreated or destroyed (from the Docker events stream, or found so at
 * a (re)connect), with what the engine says about it.
 */
export interface ContainerStateFinding extends Base {
  kind: 'container-state';
  /** `stop`: stopped on purpose (docker stop); the engine does not restart it, whatever its policy. */
  state: 'start' | 'die' | 'stop' | 'destroy' | 'restart';
  containerId: string;
  role?: 'headscale' | 'tailscale';
  image?: string;
  /** Found in this state at a (re)connect rather than seen changing. */
  initial?: boolean;
  /** die: the exit code, and whether the kernel's OOM killer ended it. */
  exitCode?: number;
  oomKilled?: boolean;
  /** die: the last log lines before it stopped (secrets masked, each line capped). */
  lastLines?: string[];
  /** start: the engine's restart count; start and die: its restart policy (`no`, `always`, `unless-stopped`, `on-failure`). */
  restartCount?: number;
  restartPolicy?: string;
  /** start, Tailscale containers: whether TS_AUTHKEY is set, and whether TS_AUTH_ONCE=true goes with it. */
  authKey?: 'set-without-auth-once' | 'set-with-auth-once' | 'unset';
}

/** After every (re)connect: the containers headwatch looks for by name, and every container the engine has. */
export interface ContainerInventoryFinding extends Base {
  kind: 'container-inventory';
  /** HEADSCALE_CONTAINER, and TAILSCALE_CONTAINERS when it lists names. */
  expected: { name: string; role: 'headscale' | 'tailscale' }[];
  present: { name: string; image: string; state: string }[];
  /** The engine, as DOCKER_HOST names it. */
  host: string;
  /** Several hosts: this host's name; its names are `hostName/container` and it says nothing of other hosts. */
  hostName?: string;
  /**
   * Several hosts: the names configured without a host (`headscale`, not `vps/headscale`), meaning that name on
   * any host, and every host's name: such a name is missing only when no host has it.
   */
  anyHost?: { expected: { name: string; role: 'headscale' | 'tailscale' }[]; hosts: string[] };
  /** The first inventory since headwatch started. */
  initial: boolean;
}

/** Result of one Headscale API poll: reachable or why not (the reachability detector's input). */
export interface ApiStatusFinding extends Base {
  kind: 'api-status';
  reachable: boolean;
  /** HeadscaleError code when not reachable (`unreachable`, `timeout`, `unauthorized`, …). */
  errorCode?: string;
  /** Operator-facing message; never contains the API key. */
  error?: string;
  server?: ServerInfo;
}

/** The full node list from one successful poll (expiry detector, `nodes` command). */
export interface NodeInventoryFinding extends Base {
  kind: 'node-inventory';
  nodes: HsNode[];
}

/** A node appeared in or vanished from the Headscale node list between two polls. */
export interface NodeLifecycleFinding extends Base {
  kind: 'node-created' | 'node-deleted';
  nodeId: string;
  nodeName: string;
  user?: string;
}

/**
 * Headscale failed to write to (or build for) a node's map stream: `Could not write the map response`,
 * `Failed to write response` on the poll path, `cannot write update to client`, `failed to apply change`,
 * stale connections. Evidence for flapping; many of them are a server-side problem of their own.
 */
export interface MapStreamErrorFinding extends Base {
  kind: 'map-stream-error';
  /** Node id, or the hostname where the release logs no id (0.22, early 0.23). */
  nodeId?: string;
  nodeName?: string;
  message: string;
  error?: string;
}

/** Headscale refused an API key (`invalid token`, `failed to validate token`, missing Bearer prefix). */
export interface ApiKeyRejectedFinding extends Base {
  kind: 'api-key-rejected';
  /** The caller's IP address (the port is dropped: it changes per connection). */
  clientAddress: string;
  reason: 'invalid' | 'validation-failed' | 'missing-bearer';
}

/**
 * A TLS failure. `server`: Headscale's own listener (`http: TLS handshake error from <peer>: <cause>`) or its
 * ACME client; `client`: a Tailscale client failing TLS towards control. `fatal` when the failure stops the
 * client (fetching the control key over HTTPS, certificate acquisition), not for Noise dials whose
 * certificate errors the client only logs.
 */
export interface TlsErrorFinding extends Base {
  kind: 'tls-error';
  side: 'server' | 'client';
  /** The other end: client IP (server side), control host (client side), ACME host (acme). */
  peer: string;
  cause: string;
  acme?: boolean;
  fatal: boolean;
}

/** tailscaled's `Switching ipn state <from> -> <to> (WantRunning=…, nm=…)`. */
export interface IpnStateFinding extends Base {
  kind: 'ipn-state';
  from: string;
  to: string;
}

/** One scrape of Headscale's /metrics (the values the storm detector needs), with the node count it had. */
export interface HeadscaleMetricsFinding extends Base {
  kind: 'headscale-metrics';
  /** Counters summed over their labels; undefined when the release does not export them. */
  mapResponsesSent?: number;
  mapResponsesGenerated?: number;
  sessionsEnded?: number;
  /** `headscale_mapresponse_ended_total` by `reason`. */
  endedByReason: Record<string, number>;
  /** Nodes in the NodeStore (0.27+), or the best other count (API node list). */
  nodes?: number;
  nodesFrom?: 'nodestore' | 'api' | 'batcher' | 'notifier';
}

/** A user-defined log rule matched a line. */
export interface RuleMatchFinding extends Base {
  kind: 'rule-match';
  rule: string;
  /** The rule's summary with `$1`, `$<name>` and `$container` filled in. */
  summary: string;
}

/** The ACL policy as the API returned it on one poll (0.23+; the event webhooks compare them). */
export interface PolicyFinding extends Base {
  kind: 'policy';
  policy: string;
  updatedAt: string | null;
}

export type FindingKind = Finding['kind'];

/** The Docker engine became reachable or unreachable (from the Docker source's reconnect loop). */
export interface DockerStatusFinding extends Base {
  kind: 'docker-status';
  /** Several hosts: which one (its HEADWATCH_DOCKER_HOSTS name); unset with one host. */
  host?: string;
  /** Where that host is, for messages (its URL). */
  where?: string;
  reachable: boolean;
  error?: string;
}
