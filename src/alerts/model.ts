import { createHash } from 'node:crypto';

export type Severity = 'critical' | 'warning' | 'info';

export type AlertKind =
  | 'node-flapping'
  | 'cpu-sustained'
  | 'ratelimit-flood'
  | 'proxy-misconfigured'
  | 'unsupported-client'
  | 'forced-443-loop'
  | 'version-skew'
  | 'headscale-unreachable'
  | 'node-expiring'
  | 'node-expired'
  | 'node-created'
  | 'node-deleted'
  | 'node-offline'
  | 'docker-unreachable'
  | 'platform-down'
  | 'tls-error'
  | 'auth-rejected'
  | 'api-key-rejected'
  | 'control-path-errors'
  | 'map-stream-errors'
  | 'map-response-storm'
  | 'log-rule'
  | 'container-missing'
  | 'container-down'
  | 'container-restart-loop';

export type AlertStatus = 'firing' | 'resolved';

/** What a detector says about an alert; the lifecycle adds identity, times and status. */
export interface AlertDraft {
  /** Stable identity: same concern on the same subject ⇒ same fingerprint, across restarts. */
  fingerprint: string;
  kind: AlertKind;
  severity: Severity;
  /** Node id/name or container name the alert is about. */
  subject: string;
  summary: string;
  /** Last few matching lines, CPU samples, versions… newest last. */
  evidence: string[];
  labels?: Record<string, string>;
}

export interface Alert extends AlertDraft {
  labels: Record<string, string>;
  status: AlertStatus;
  /** ISO 8601 timestamps. */
  startsAt: string;
  updatedAt: string;
  endsAt: string | null;
  /** How many times it has fired (re-fires after a resolve count up). */
  occurrences: number;
}

/** A detector's verdict for one fingerprint. */
export type DetectorEvent =
  | { action: 'fire'; alert: AlertDraft }
  | { action: 'update'; alert: AlertDraft }
  | { action: 'resolve'; fingerprint: string; summary?: string };

/** What the lifecycle hands to the dispatcher: a real state change of a stored alert. */
export interface AlertTransition {
  change: 'firing' | 'updated' | 'resolved';
  alert: Alert;
  at: number;
}

/** Fingerprints are readable on purpose: operators silence by them. */
export function fingerprint(kind: AlertKind, subject: string): string {
  return `${kind}:${subject}`;
}

/** A short stable stand-in for a fingerprint too long for a button id (Discord custom_id ≤ 100 characters). */
export function fingerprintHash(fp: string): string {
  return createHash('sha256').update(fp).digest('hex').slice(0, 16);
}

export const MAX_EVIDENCE = 10;

export function appendEvidence(list: string[], item: string, max = MAX_EVIDENCE): string[] {
  const next = [...list, item];
  return next.length > max ? next.slice(next.length - max) : next;
}
