import type { NotificationLog } from '../../store/notification-log.js';
import type { NotifyQueue } from '../../store/notify-queue.js';
import type { Lane } from '../lanes.js';
import type { Flush, Notification, Stage } from './types.js';

/**
 * Grouping, in two halves. Changes are queued per lane and group (the alert kind) as they happen (NotifyQueue);
 * {@link GroupSchedule} says when a group is due (group_wait after its first change, group_interval after its
 * last flush). The stage below starts a due group's flush: it takes the queued changes, as the alerts are now —
 * except changes for messages that wait for their next allowed edit: those stay with prompt-edits.ts, so a group
 * flush never edits a message sooner than the edit interval allows.
 */
export const groupStage: Stage = {
  name: 'group',
  run(f: Flush): Notification[] {
    const pending = f.queue.takeGroup(f.lane.key, f.group, f.held);
    f.queue.setGroupFlush(f.lane.key, f.group, f.now);
    const out: Notification[] = [];
    for (const p of pending) {
      // A change is notified as the alert is now, not as it was when the change was queued.
      const alert = f.alerts.get(p.fingerprint);
      if (alert) out.push({ change: p.change, alert });
    }
    return out;
  },
};

/** Minimum spacing of sends to a console/webhook lane; changes in between ride along with the next send. */
export const SENDER_BATCH_MS = 200;

interface GroupTimer {
  lane: string;
  group: string;
  firstPendingAt?: number;
  lastFlushAt?: number;
}

export interface GroupTiming {
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
}

/** When each group is due, kept in memory and rebuilt from the queue after a restart. */
export class GroupSchedule {
  private readonly timers = new Map<string, GroupTimer>();

  constructor(
    private readonly queue: NotifyQueue,
    private readonly log: NotificationLog,
    private readonly timing: GroupTiming,
  ) {
    for (const g of queue.groupFlushes()) this.timer(g.lane, g.group).lastFlushAt = g.at;
    for (const g of queue.pendingGroups()) this.timer(g.lane, g.group).firstPendingAt = g.first;
  }

  /** A change was queued for the group at `now` (its group_wait starts with the first one). */
  queued(lane: string, group: string, now: number): void {
    this.timer(lane, group).firstPendingAt ??= now;
  }

  /**
   * Grouping delays exist so people in chat are not spammed. Console and webhook consumers are programs (or a
   * terminal) that want each change as it happens: no group wait, and changes arriving within SENDER_BATCH_MS of a
   * send are batched into the next one so a storm is still a bounded number of requests.
   */
  dueAt(lane: Lane, group: string): number {
    return this.due(this.timer(lane.key, group), lane);
  }

  /** Groups with queued changes that are due at `now`. */
  dueGroups(now: number, laneOf: (key: string) => Lane | undefined): { lane: string; group: string }[] {
    const out: { lane: string; group: string }[] = [];
    for (const g of this.timers.values()) if (g.firstPendingAt !== undefined && now >= this.due(g, laneOf(g.lane))) out.push({ lane: g.lane, group: g.group });
    return out;
  }

  /** Its queued changes were all taken by prompt edits: nothing is due, and the last flush time stands. */
  drained(lane: string, group: string): void {
    this.timer(lane, group).firstPendingAt = undefined;
  }

  /** The group is being flushed now (its queued changes are taken). */
  flushing(lane: string, group: string, now: number): void {
    const g = this.timer(lane, group);
    g.firstPendingAt = undefined;
    g.lastFlushAt = now;
  }

  /**
   * Firing alerts whose lane last heard of them repeat_interval ago get a `repeat` change in their group.
   * Call inside a transaction.
   */
  queueRepeats(now: number): void {
    for (const r of this.log.dueRepeats(now - this.timing.repeatIntervalMs)) {
      this.queue.add(r.lane, r.fingerprint, r.kind, 'repeat', now);
      this.queued(r.lane, r.kind, now);
    }
  }

  private due(g: GroupTimer, lane: Lane | undefined): number {
    const [wait, interval] = lane?.kind === 'alerts' ? [0, SENDER_BATCH_MS] : [this.timing.groupWaitMs, this.timing.groupIntervalMs];
    return Math.max((g.firstPendingAt ?? Infinity) + wait, (g.lastFlushAt ?? -Infinity) + interval);
  }

  private timer(lane: string, group: string): GroupTimer {
    const key = `${lane}\u0000${group}`;
    let g = this.timers.get(key);
    if (!g) this.timers.set(key, (g = { lane, group }));
    return g;
  }
}
