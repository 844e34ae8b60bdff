import type { Alert } from '../../alerts/model.js';
import type { ImageAttachment } from '../../messages/model.js';
import type { AlertRepository } from '../../store/alerts.js';
import type { Digests } from '../../store/digests.js';
import type { NotificationLog, NotificationLogEntry } from '../../store/notification-log.js';
import type { NotifyQueue, PendingChange } from '../../store/notify-queue.js';
import type { Outbox } from '../../store/outbox.js';
import type { Silences } from '../../store/silences.js';
import type { Lane } from '../lanes.js';

export type SuppressReason = 'silenced' | 'inhibited' | 'deduplicated' | 'folded';

/** What to tell a lane about an alert, decided by dedup against the notification log. */
export type Action = 'new' | 'refire' | 'repeat' | 'update' | 'resolve';

/** One alert change on its way through a flush; stages add what they decided. */
export interface Notification {
  change: PendingChange;
  /** The alert as it is now (not as it was when the change was queued). */
  alert: Alert;
  /** dedup: what to say. */
  action?: Action;
  /** dedup: what this lane was last told about the alert. */
  log?: NotificationLogEntry;
  /** digest: a line for the thread of an earlier storm digest this alert was folded into (written last). */
  oldDigest?: { refKey: string; line: string };
}

/** The parts and settings every flush works with; the same for all flushes of a dispatcher. */
export interface FlushParts {
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

/** One flush: a lane's group (its alert kind) at one moment. */
export interface Flush extends FlushParts {
  lane: Lane;
  group: string;
  now: number;
  /** Alerts whose change waits for their own message's next edit (prompt-edits.ts): the group leaves them queued. */
  held?: ReadonlySet<string>;
}

/**
 * A stage of the notification path (Alertmanager notify.go's `Stage.Exec(ctx, alerts) → alerts`): takes the
 * batch the previous stage left and returns what goes on. Stages run inside the flush's one transaction.
 */
export interface Stage {
  readonly name: string;
  run(flush: Flush, batch: Notification[]): Notification[];
}
