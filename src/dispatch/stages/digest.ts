import type { Digest } from '../../store/digests.js';
import type { NotificationLogEntry } from '../../store/notification-log.js';
import { alertLine, digestMessage, threadNote } from '../messages.js';
import { logEntry } from './content.js';
import type { Flush, FlushParts, Notification, Stage } from './types.js';

/** What a thread line says about a change. */
export function changeWord(action: Notification['action']): 'resolved' | 'still firing' | 'firing again' | 'updated' {
  return action === 'resolve' ? 'resolved' : action === 'repeat' ? 'still firing' : action === 'refire' ? 'firing again' : 'updated';
}

/**
 * The per-channel budget and the storm digest (chat lanes; console and webhook take every change). New alerts
 * beyond HEADWATCH_CHANNEL_BUDGET posts per group interval, and every new alert while a storm lasts, fold into the
 * lane's one digest message (their lines go to its thread); changes to folded alerts become digest lines too.
 * What is left has its own message: new alerts to post (action `new`), and changes for their messages. During a
 * storm, content-only edits of single messages wait (counted as folded).
 */
export const digestStage: Stage = {
  name: 'digest',
  run(f: Flush, batch: Notification[]): Notification[] {
    if (f.lane.kind !== 'chat') return batch;
    let digest = f.digests.get(f.lane.key);
    const news = batch.filter((n) => n.action === 'new' || (n.action === 'refire' && n.log?.folded && !isLive(digest, n.log)));
    const rest = batch.filter((n) => !news.includes(n));
    const out: Notification[] = [];

    // Budget: posts already decided for this channel in the last group interval (sent or not).
    const remaining = f.channelBudget - f.outbox.postsSince(f.lane.key, f.now - f.groupIntervalMs);
    if (news.length > 0 && ((digest?.active ?? false) || news.length > remaining)) {
      if (!digest || !digest.active) {
        digest = { lane: f.lane.key, refKey: `digest:${f.now}`, startedAt: f.now, lastFoldAt: f.now, lastEditAt: 0, posted: false, dirty: true, active: true, notesDropped: 0 };
      }
      for (const n of news) {
        f.log.put(logEntry(f.lane, n.alert, f.now, digest.refKey, true));
        f.digests.addNote(digest, alertLine(n.alert, 'firing', f.now));
      }
      f.suppressed('folded', news.length);
      digest.lastFoldAt = f.now;
      digest.dirty = true;
    } else {
      // A folded alert firing again after its storm ended gets a message of its own, like a new one.
      for (const n of news) out.push({ ...n, action: 'new' });
    }
    for (const n of rest) {
      const kept = n.log!.folded ? foldedChange(f, digest, n) : ownChange(f, digest, n);
      if (kept) out.push(kept);
    }
    if (digest) f.digests.put(digest);
    return out;
  },
};

/** A change to an alert living in a digest: a line in the live digest's thread, or in its old digest's thread. */
function foldedChange(f: Flush, digest: Digest | undefined, n: Notification): Notification | undefined {
  const log = n.log!;
  f.log.put(logEntry(f.lane, n.alert, n.action === 'update' ? log.notifiedAt : f.now, log.refKey, true));
  const live = digest !== undefined && isLive(digest, log);
  if (n.action === 'update') {
    if (live) {
      digest.dirty = true;
      digest.lastFoldAt = f.now; // still changing: the storm goes on
    }
    return undefined;
  }
  const line = alertLine(n.alert, changeWord(n.action), f.now);
  if (!live) return { ...n, oldDigest: { refKey: log.refKey!, line } };
  f.digests.addNote(digest, line);
  digest.dirty = true;
  // Flapping alerts resolving and re-firing keep the storm alive, or it would end and restart every interval.
  digest.lastFoldAt = f.now;
  return undefined;
}

/** A change to an alert with its own message: kept, except content-only edits while a storm lasts. */
function ownChange(f: Flush, digest: Digest | undefined, n: Notification): Notification | undefined {
  // During a storm the channel only hears from the digest; content-only edits wait for calmer times.
  if (n.action === 'update' && digest?.active) {
    f.suppressed('folded');
    return undefined;
  }
  return n;
}

function isLive(digest: Digest | undefined, log: NotificationLogEntry): digest is Digest {
  return !!digest && digest.active && digest.refKey === log.refKey;
}

/**
 * Posts the digest once, then edits it at most once per group interval (and adds the new details to its
 * thread); ends the storm after a whole group interval without new folded alerts. Runs on every dispatcher
 * tick, inside a transaction.
 */
export function maintainDigest(parts: FlushParts, digest: Digest, now: number): void {
  const quiet = now - digest.lastFoldAt >= parts.groupIntervalMs;
  const editDue = now - digest.lastEditAt >= parts.groupIntervalMs;
  const ending = digest.active && digest.posted && quiet && editDue;
  if (digest.posted && !digest.dirty && !ending) return;
  if (digest.posted && !editDue) return;
  const counts = parts.log.digestCounts(digest.lane, digest.refKey);
  const message = digestMessage(counts, digest.startedAt, now, ending);
  parts.outbox.enqueue(digest.lane, digest.posted ? 'edit' : 'post', digest.refKey, message, now);
  const notes = parts.digests.takeNotes(digest.lane, digest.refKey);
  if (notes.length > 0 || digest.notesDropped > 0) {
    parts.outbox.enqueue(digest.lane, 'reply', digest.refKey, threadNote(notes, digest.notesDropped), now);
  }
  parts.digests.put({ ...digest, posted: true, dirty: false, lastEditAt: now, notesDropped: 0, active: digest.active && !ending });
}
