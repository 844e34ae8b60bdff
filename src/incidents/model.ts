import type { Alert } from '../alerts/model.js';

/**
 * An incident is the set of alerts that concern one node (and its container), or the Headscale server, within
 * HEADWATCH_INCIDENT_WINDOW: one problem, one message per channel. Member alerts keep their own lifecycle; the
 * incident is open while any member fires and resolves when the last one clears.
 */
export type IncidentScope = 'node' | 'server';
export type IncidentStatus = 'open' | 'resolved' | 'merged';

/** How a node was tied to its container (said in the message). */
export type MatchVia = 'node-map' | 'TS_HOSTNAME' | 'hostname' | 'container-name' | 'client-version';

export interface NodeRef {
  id: string;
  name?: string;
}

export interface Incident {
  id: number;
  scope: IncidentScope;
  status: IncidentStatus;
  /** Node incidents: the node and/or container; server incidents: the Headscale container, if watched. */
  node?: NodeRef;
  container?: string;
  /** How node and container were matched, e.g. `TS_HOSTNAME=nas-01` (node incidents with both). */
  matchedBy?: string;
  openedAt: number;
  updatedAt: number;
  /** Last time a member joined or fired; a resolved incident re-opens for alerts within the window of it. */
  lastActivityAt: number;
  resolvedAt?: number;
  /** Set on a node incident folded into a server incident. */
  mergedInto?: number;
  /** The last Re-register playbook run on this incident, for "resolved N min after Re-register by …". */
  reregister?: { runId: number; by: string; at: number; ok: boolean };
}

export interface IncidentMember {
  incidentId: number;
  fingerprint: string;
  kind: string;
  status: 'firing' | 'resolved';
  joinedAt: number;
  updatedAt: number;
  /** The node this member is about, when it names one (server incidents list these). */
  node?: NodeRef;
  container?: string;
}

export type IncidentChange = 'opened' | 'joined' | 'updated' | 'left' | 'resolved' | 'reopened' | 'merged';

/** What the correlator tells the dispatcher: an incident whose message must be posted or edited. */
export interface IncidentTransition {
  change: IncidentChange;
  incident: Incident;
  at: number;
  /** One line for the incident's thread (member joined, resolved, merged…). */
  note?: string;
  /** The alert that caused the change, when one did. */
  alert?: Alert;
}

/** Stable names (message, webhook payload, `/headscale incidents`); never rename one. */
export const CAUSE_NAMES = [
  'version-skew',
  'proxy-no-upgrade',
  'plain-http-forced-443',
  'shared-network-namespace',
  'stale-auth-key',
  'map-response-storm',
  'headscale-too-old',
] as const;
export type CauseName = (typeof CAUSE_NAMES)[number];

export const CAUSE_TITLES: Record<CauseName, string> = {
  'version-skew': 'Version skew between Tailscale and Headscale',
  'proxy-no-upgrade': 'Reverse proxy not passing the /ts2021 upgrade',
  'plain-http-forced-443': 'Plain-HTTP login server hit by the forced port-443 redial',
  'shared-network-namespace': 'Shared network namespace',
  'stale-auth-key': 'Stale auth key re-sent on every start',
  'map-response-storm': 'Map-response storm',
  'headscale-too-old': 'Headscale release too old',
};

/** What to do before anything else, when the top cause says so. */
export type FirstStep =
  | { kind: 'upgrade-headscale'; to: string; from?: string; imageChange?: string; path: string[] }
  | { kind: 'upgrade-client'; container?: string; minimum: string; imageChange?: string };

export interface Cause {
  name: CauseName;
  title: string;
  /** Sum of the evidence weights; causes are ranked by it. */
  score: number;
  /** Real log lines, versions, settings: what was found, newest last. */
  evidence: string[];
  /** One or two sentences an operator can act on. */
  fix: string;
  firstStep?: FirstStep;
}
