import type { Action, Flush, Notification, Stage } from './types.js';
import { contentHash } from './content.js';

/**
 * Compares each change with what this lane was last told about the alert (the notification log) and decides
 * what to say: new, firing again, a repeat, an update, resolved, or nothing (dropped, counted as deduplicated).
 */
export const dedupStage: Stage = {
  name: 'dedup',
  run(f: Flush, batch: Notification[]): Notification[] {
    const out: Notification[] = [];
    for (const n of batch) {
      const log = f.log.get(f.lane.key, n.alert.fingerprint);
      const action = decide(f, n, log);
      if (action) out.push({ ...n, action, ...(log ? { log } : {}) });
      else f.suppressed('deduplicated');
    }
    return out;
  },
};

function decide(f: Flush, { change, alert }: Notification, log: Notification['log']): Action | undefined {
  // Never announced (or already announced as resolved): nothing to say.
  if (alert.status === 'resolved') return log && log.status === 'firing' ? 'resolve' : undefined;
  if (!log) return 'new';
  if (log.status === 'resolved') return log.refKey ? 'refire' : 'new';
  if (change === 'repeat') return f.now - log.notifiedAt >= f.repeatIntervalMs ? 'repeat' : undefined;
  return contentHash(alert) !== log.contentHash ? 'update' : undefined;
}
