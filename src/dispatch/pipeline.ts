import type { ImageAttachment } from '../messages/model.js';
import type { Alert } from '../alerts/model.js';
import type { AlertChange, NotifiedAlert } from '../destinations/destination.js';
import type { Outbox } from '../store/outbox.js';
import type { Lane } from './lanes.js';
import type { Silences } from '../store/silences.js';
import { alertLine, alertMessage, digestMessage, silenceActionId, threadNote } from './messages.js';
import { createHash } from 'node:crypto';
import { fingerprintHash } from '../alerts/model.js';
import type { AlertRepository } from '../store/alerts.js';
import type { Digest, Digests } from '../store/digests.js';
import type { NotificationLog, NotificationLogEntry } from '../store/notification-log.js';
import type { NotifyQueue, PendingChange } from '../store/notify-queue.js';

/**
 * The notify pipeline for one group flush, as small stages in Alertmanager's order:
 *   silence → inhibit → dedup (against the notification log) → budget/fold → outbox.
 * Everything a flush decides is written in ONE transaction with the outbox rows it creates, so a crash either
 * loses the whole decision (the pending changes are still there) or keeps all of it.
 */

export type SuppressReason = 'silenced' | 'inhibited' | 'deduplicated' | 'folded';


export interface PipelineContext {
  alerts: AlertRepository;
  queue: NotifyQueue;
  log: NotificationLog;
  digests: Digests;
  outbox: Outbox;
  silences: Silences;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Top-level channel posts allowed per lane per group interval before alerts fold into the digest. */
  channelBudget: number;
  /** HEADWATCH_COMMAND, for the slash command an alert's advice suggests. */
  commandName?: string;
  suppressed(reason: SuppressReason, n?: number): void;
  /** A picture for an alert's first post (the CPU chart), when one is ready. */
  imageFor?(alert: Alert): ImageAttachment | undefined;
}

/** Kinds held back while their parent alert fires (Headscale unreachable ⇒ every node looks offline). */
export const INHIBIT_RULES: { source: string; targets: string[] }[] = [
  { source: 'headscale-unreachable', targets: ['node-offline', 'node-flapping'] },
];

export const SENDER_BATCH = 200;

type Action = 'new' | 'refire' | 'repeat' | 'update' | 'resolve';

interface Decision {
  action: Action;
  alert: Alert;
  log: NotificationLogEntry | undefined;
}

// --- stages -------------------------------------------------------------------------------------------

function silenceStage(ctx: PipelineContext, items: { change: PendingChange; alert: Alert }[]) {
  return items.filter(({ alert }) => {
    if (alert.status !== 'firing') return true; // a resolution may still tidy up a message that was posted
    if (!ctx.silences.matching(alert)) return true;
    ctx.suppressed('silenced');
    return false;
  });
}

function inhibitStage(ctx: PipelineContext, items: { change: PendingChange; alert: Alert }[]) {
  const active = INHIBIT_RULES.filter((r) => ctx.alerts.isAnyFiring(r.source));
  if (active.length === 0) return items;
  return items.filter(({ alert }) => {
    if (alert.status !== 'firing' || !active.some((r) => r.targets.includes(alert.kind))) return true;
    ctx.suppressed('inhibited');
    return false;
  });
}

/** Compares with what this lane was last told about the alert; drops what would repeat it too early. */
function dedupStage(ctx: PipelineContext, lane: Lane, items: { change: PendingChange; alert: Alert }[], now: number): Decision[] {
  const out: Decision[] = [];
  for (const { change, alert } of items) {
    const log = ctx.log.get(lane.key, alert.fingerprint);
    let action: Action | undefined;
    if (alert.status === 'resolved') {
      // Never announced (or already announced as resolved): nothing to say.
      if (log && log.status === 'firing') action = 'resolve';
    } else if (!log) action = 'new';
    else if (log.status === 'resolved') action = log.refKey ? 'refire' : 'new';
    else if (change === 'repeat') action = now - log.notifiedAt >= ctx.repeatIntervalMs ? 'repeat' : undefined;
    else if (contentHash(alert) !== log.contentHash) action = 'update';
    if (action) out.push({ action, alert, log });
    else ctx.suppressed('deduplicated');
  }
  return out;
}

// --- flush --------------------------------------------------------------------------------------------

/** Runs one group's pending changes through the pipeline. Call inside a transaction. */
export function flushGroup(ctx: PipelineContext, lane: Lane, group: string, now: number): void {
  const taken = loadAlerts(ctx, ctx.queue.takeGroup(lane.key, group));
  ctx.queue.setGroupFlush(lane.key, group, now);
  if (taken.length === 0) return;
  const decisions = dedupStage(ctx, lane, inhibitStage(ctx, silenceStage(ctx, taken)), now);
  if (decisions.length === 0) return;
  if (lane.kind === 'alerts') notifySender(ctx, lane, decisions, now);
  else notifyChat(ctx, lane, decisions, now);
}

/** The latest stored version of each pending alert (a change is notified as the alert is now, not as it was). */
function loadAlerts(ctx: PipelineContext, pending: { fingerprint: string; change: PendingChange }[]): { change: PendingChange; alert: Alert }[] {
  const out: { change: PendingChange; alert: Alert }[] = [];
  for (const p of pending) {
    const alert = ctx.alerts.get(p.fingerprint);
    if (alert) out.push({ change: p.change, alert });
  }
  return out;
}

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

function logFrom(lane: Lane, alert: Alert, now: number, refKey: string | null, folded: boolean): NotificationLogEntry {
  return {
    lane: lane.key,
    fingerprint: alert.fingerprint,
    kind: alert.kind,
    status: alert.status,
    refKey,
    folded,
    notifiedAt: now,
    contentHash: contentHash(alert),
    weight: alertWeight(alert),
  };
}

const NOTIFICATION: Record<Action, AlertChange> = { new: 'firing', refire: 'firing', repeat: 'repeat', update: 'updated', resolve: 'resolved' };

function notifySender(ctx: PipelineContext, lane: Lane, decisions: Decision[], now: number): void {
  const batch: NotifiedAlert[] = [];
  for (const d of decisions) {
    // The webhook gets state changes and repeats; the console (lane.updates) every change, updates included.
    if (d.action !== 'update' || lane.updates) batch.push({ ...d.alert, notification: NOTIFICATION[d.action] });
    ctx.log.put(logFrom(lane, d.alert, now, null, false));
  }
  for (let i = 0; i < batch.length; i += SENDER_BATCH) {
    ctx.outbox.enqueue(lane.key, 'alerts', `batch:${now}:${i}`, batch.slice(i, i + SENDER_BATCH), now);
  }
}

export function renderAlert(alert: Alert, now: number, commandName?: string) {
  return alertMessage(alert, { now, commandName, silenceActionId: silenceActionId(alert.fingerprint, '1h', fingerprintHash(alert.fingerprint)) });
}

function notifyChat(ctx: PipelineContext, lane: Lane, decisions: Decision[], now: number): void {
  let digest = ctx.digests.get(lane.key);
  const news = decisions.filter((d) => d.action === 'new' || (d.action === 'refire' && d.log?.folded && !digestIsLive(digest, d.log)));
  const rest = decisions.filter((d) => !news.includes(d));

  // Budget: posts already decided for this channel in the last group interval (sent or not).
  const remaining = ctx.channelBudget - ctx.outbox.postsSince(lane.key, now - ctx.groupIntervalMs);
  const fold = (digest?.active ?? false) || news.length > remaining;
  if (news.length > 0 && fold) {
    if (!digest || !digest.active) {
      digest = { lane: lane.key, refKey: `digest:${now}`, startedAt: now, lastFoldAt: now, lastEditAt: 0, posted: false, dirty: true, active: true, notesDropped: 0 };
    }
    for (const d of news) {
      ctx.log.put(logFrom(lane, d.alert, now, digest.refKey, true));
      ctx.digests.addNote(digest, alertLine(d.alert, 'firing', now));
    }
    ctx.suppressed('folded', news.length);
    digest.lastFoldAt = now;
    digest.dirty = true;
  } else {
    for (const d of news) {
      const refKey = `alert:${d.alert.fingerprint}:${now}`;
      const image = ctx.imageFor?.(d.alert);
      ctx.outbox.enqueue(lane.key, 'post', refKey, { ...renderAlert(d.alert, now, ctx.commandName), ...(image ? { images: [image] } : {}) }, now);
      ctx.log.put(logFrom(lane, d.alert, now, refKey, false));
    }
  }

  // Changes to alerts that already have a place: their own message, or a digest.
  const oldDigestLines = new Map<string, string[]>();
  for (const d of rest) {
    const log = d.log!;
    const what = d.action === 'resolve' ? 'resolved' : d.action === 'repeat' ? 'still firing' : d.action === 'refire' ? 'firing again' : 'updated';
    if (log.folded) {
      ctx.log.put(logFrom(lane, d.alert, d.action === 'update' ? log.notifiedAt : now, log.refKey, true));
      if (d.action === 'update') {
        if (digest && digestIsLive(digest, log)) {
          digest.dirty = true;
          digest.lastFoldAt = now; // still changing: the storm goes on
        }
        continue;
      }
      if (digest && digestIsLive(digest, log)) {
        ctx.digests.addNote(digest, alertLine(d.alert, what, now));
        digest.dirty = true;
        // Flapping alerts resolving and re-firing keep the storm alive, or it would end and restart every interval.
        digest.lastFoldAt = now;
      } else {
        const lines = oldDigestLines.get(log.refKey!) ?? [];
        lines.push(alertLine(d.alert, what, now));
        oldDigestLines.set(log.refKey!, lines);
      }
      continue;
    }
    const refKey = log.refKey!;
    if (d.action === 'update') {
      // During a storm the channel only hears from the digest; content-only edits wait for calmer times.
      if (digest?.active) {
        ctx.suppressed('folded');
        continue;
      }
      ctx.outbox.enqueue(lane.key, 'edit', refKey, renderAlert(d.alert, now, ctx.commandName), now);
      ctx.log.put(logFrom(lane, d.alert, log.notifiedAt, refKey, false));
      continue;
    }
    if (d.action === 'resolve' || d.action === 'refire') {
      ctx.outbox.enqueue(lane.key, 'edit', refKey, renderAlert(d.alert, now, ctx.commandName), now);
    }
    ctx.outbox.enqueue(lane.key, 'reply', refKey, threadNote([alertLine(d.alert, what, now)]), now);
    ctx.log.put(logFrom(lane, d.alert, now, refKey, false));
  }
  for (const [refKey, lines] of oldDigestLines) {
    const shown = lines.slice(0, 40);
    ctx.outbox.enqueue(lane.key, 'reply', refKey, threadNote(shown, lines.length - shown.length), now);
  }
  if (digest) ctx.digests.put(digest);
}

function digestIsLive(digest: Digest | undefined, log: NotificationLogEntry): boolean {
  return !!digest && digest.active && digest.refKey === log.refKey;
}

/**
 * Posts the digest once, then edits it at most once per group interval (and adds the new details to its
 * thread); ends the storm after a whole group interval without new folded alerts. Call inside a transaction.
 */
export function maintainDigest(ctx: PipelineContext, digest: Digest, now: number): void {
  const quiet = now - digest.lastFoldAt >= ctx.groupIntervalMs;
  const editDue = now - digest.lastEditAt >= ctx.groupIntervalMs;
  const ending = digest.active && digest.posted && quiet && editDue;
  if (digest.posted && !digest.dirty && !ending) return;
  if (digest.posted && !editDue) return;
  const counts = ctx.log.digestCounts(digest.lane, digest.refKey);
  const message = digestMessage(counts, digest.startedAt, now, ending);
  ctx.outbox.enqueue(digest.lane, digest.posted ? 'edit' : 'post', digest.refKey, message, now);
  const notes = ctx.digests.takeNotes(digest.lane, digest.refKey);
  if (notes.length > 0 || digest.notesDropped > 0) {
    ctx.outbox.enqueue(digest.lane, 'reply', digest.refKey, threadNote(notes, digest.notesDropped), now);
  }
  ctx.digests.put({ ...digest, posted: true, dirty: false, lastEditAt: now, notesDropped: 0, active: digest.active && !ending });
}
