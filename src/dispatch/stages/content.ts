import { createHash } from 'node:crypto';
import { fingerprintHash, type Alert } from '../../alerts/model.js';
import type { NotificationLogEntry } from '../../store/notification-log.js';
import type { Lane } from '../lanes.js';
import { alertMessage, silenceActionId } from '../messages.js';

/** What a user would notice changing in an alert message. */
export function contentHash(a: Alert): string {
  return createHash('sha256')
    .update(JSON.stringify([a.status, a.severity, a.summary, a.evidence.slice(-5), a.occurrences]))
    .digest('hex')
    .slice(0, 16);
}

/** A numeric `labels.count` (e.g. RATELIMIT lines in the window) weighs the storm digest's headline. */
export function alertWeight(a: Alert): number {
  const n = Number(a.labels['count']);
  return Number.isFinite(n) && n > 0 ? Math.round(n) : 0;
}

/** The notification-log entry for telling `lane` about `alert` at `at`, in message `refKey`. */
export function logEntry(lane: Lane, alert: Alert, at: number, refKey: string | null, folded: boolean): NotificationLogEntry {
  return {
    lane: lane.key,
    fingerprint: alert.fingerprint,
    kind: alert.kind,
    status: alert.status,
    refKey,
    folded,
    notifiedAt: at,
    contentHash: contentHash(alert),
    weight: alertWeight(alert),
  };
}

/** An alert's chat message, with its advice and Silence 1h button. */
export function renderAlert(alert: Alert, now: number, commandName?: string) {
  return alertMessage(alert, { now, commandName, silenceActionId: silenceActionId(alert.fingerprint, '1h', fingerprintHash(alert.fingerprint)) });
}
