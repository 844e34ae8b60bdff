import type { AlertChange, NotifiedAlert } from '../../destinations/destination.js';
import { alertLine, threadNote } from '../messages.js';
import { logEntry, renderAlert } from './content.js';
import { changeWord } from './digest.js';
import type { Action, Flush, Notification, Stage } from './types.js';

/** Most alerts in one console/webhook request; a storm's batch is split. */
export const SENDER_BATCH = 200;
/** Most lines of one reply into an old digest's thread; the rest are counted ("…and 12 more"). */
const OLD_DIGEST_LINES = 40;

/**
 * The last stage: writes what was decided into the durable outbox, in the flush's transaction, and records it
 * in the notification log. Chat lanes: a post per new alert, an edit for a changed, resolved or re-firing
 * alert's message, a line in its thread, then the lines for old digests' threads. Console and webhook: the
 * batch of state changes and repeats.
 */
export const outboxStage: Stage = {
  name: 'outbox',
  run(f: Flush, batch: Notification[]): Notification[] {
    if (f.lane.kind === 'alerts') writeAlertBatch(f, batch);
    else writeChat(f, batch);
    return batch;
  },
};

/** Which change an alert batch announces, for destinations that print it (the console's FIRING / UPDATED / …). */
const ANNOUNCED: Record<Action, AlertChange> = { new: 'firing', refire: 'firing', repeat: 'repeat', update: 'updated', resolve: 'resolved' };

function writeAlertBatch(f: Flush, batch: Notification[]): void {
  const alerts: NotifiedAlert[] = [];
  for (const n of batch) {
    // The webhook gets state changes and repeats; the console (lane.updates) every change, updates included.
    if (n.action !== 'update' || f.lane.updates) alerts.push({ ...n.alert, notification: ANNOUNCED[n.action!] });
    f.log.put(logEntry(f.lane, n.alert, f.now, null, false));
  }
  for (let i = 0; i < alerts.length; i += SENDER_BATCH) {
    f.outbox.enqueue(f.lane.key, 'alerts', `batch:${f.now}:${i}`, alerts.slice(i, i + SENDER_BATCH), f.now);
  }
}

function writeChat(f: Flush, batch: Notification[]): void {
  const { lane, now } = f;
  const oldDigestLines = new Map<string, string[]>();
  for (const n of batch) {
    if (n.oldDigest) {
      const lines = oldDigestLines.get(n.oldDigest.refKey) ?? [];
      lines.push(n.oldDigest.line);
      oldDigestLines.set(n.oldDigest.refKey, lines);
      continue;
    }
    if (n.action === 'new') {
      const refKey = `alert:${n.alert.fingerprint}:${now}`;
      const image = f.imageFor?.(n.alert);
      f.outbox.enqueue(lane.key, 'post', refKey, { ...renderAlert(n.alert, now, f.commandName), ...(image ? { images: [image] } : {}) }, now);
      f.log.put(logEntry(lane, n.alert, now, refKey, false));
      continue;
    }
    const log = n.log!;
    const refKey = log.refKey!;
    if (n.action === 'update') {
      f.outbox.enqueue(lane.key, 'edit', refKey, renderAlert(n.alert, now, f.commandName), now);
      f.log.put(logEntry(lane, n.alert, log.notifiedAt, refKey, false));
      continue;
    }
    if (n.action === 'resolve' || n.action === 'refire') f.outbox.enqueue(lane.key, 'edit', refKey, renderAlert(n.alert, now, f.commandName), now);
    f.outbox.enqueue(lane.key, 'reply', refKey, threadNote([alertLine(n.alert, changeWord(n.action), now)]), now);
    f.log.put(logEntry(lane, n.alert, now, refKey, false));
  }
  for (const [refKey, lines] of oldDigestLines) {
    const shown = lines.slice(0, OLD_DIGEST_LINES);
    f.outbox.enqueue(lane.key, 'reply', refKey, threadNote(shown, lines.length - shown.length), now);
  }
}
