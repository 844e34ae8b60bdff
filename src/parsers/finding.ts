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
  | ApiStatusFinding
  | DockerStatusFinding
  | NodeInventoryFinding
  | NodeLifecycleFinding;

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
  /** Which log line family produced it: `state` (node connected) or `poll` (node has connected) or `api`. */
  via: 'state' | 'poll' | 'legacy' | 'api';
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

export interface ControlErrorFinding extends Base {
  kind: 'control-error';
  error: string;
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
  /** Percent of the container's CPU allowance (its limit when set, else of one core × online CPUs as docker stats). */
  percent: number;
  /** CPUs the percent is relative to (the limit when one is set). */
  cpus: number;
}

export interface ClientVersionFinding extends Base {
  kind: 'client-version';
  version: string;
  nodeId?: string;
}

/** A watched container started, died, was recreated or destroyed (from the Docker events stream). */
export interface ContainerStateFinding extends Base {
  kind: 'container-state';
  state: 'start' | 'die' | 'destroy' | 'restart';
  containerId: string;
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

export type FindingKind = Finding['kind'];

/** The Docker engine became reachable or unreachable (from the Docker source's reconnect loop). */
export interface DockerStatusFinding extends Base {
  kind: 'docker-status';
  reachable: boolean;
  error?: string;
}
