import type { Digests } from '../store/digests.js';
import type { NotificationLog } from '../store/notification-log.js';
import type { NotifyQueue } from '../store/notify-queue.js';
import type { EditPacing } from './edit-pacing.js';
import type { Lane } from './lanes.js';
import { dedupStage } from './stages/dedup.js';
import { digestStage } from './stages/digest.js';
import { inhibitStage, silenceStage } from './stages/mute.js';
import { outboxStage } from './stages/outbox.js';
import type { Flush, Notification, Stage } from './stages/types.js';

/**
 * In-place changes are applied promptly. Grouping (group_wait, group_interval) exists so a channel is not
 * flooded with new posts; a change to an alert that already has its own message in a channel — resolved, new
 * evidence, firing again — edits that message instead, so holding it for the group interval only leaves a stale
 * CRITICAL on screen. Such a change leaves its group and is flushed on its own as soon as its message may be
 * edited again: at most one edit per message per HEADWATCH_EDIT_INTERVAL, and per channel within the
 * platform's published limits (edit-pacing.ts, the same rule incident and digest messages follow). During a storm (the lane's digest is live) nothing changes:
 * the digest absorbs everything, at most one edit per group interval.
 */

interface Waiting {
  lane: string;
  fingerprint: string;
  /** The alert's message on the lane (the outbox ref key its post was stored under). */
  refKey: string;
  since: number;
}

/** The stages of a prompt flush: the alert's own change, muted and deduplicated like any other. */
function takeStage(fingerprints: string[]): Stage {
  return {
    name: 'take',
    run(f: Flush): Notification[] {
      const out: Notification[] = [];
      for (const fp of fingerprints) {
        const p = f.queue.take(f.lane.key, fp);
        const alert = p && f.alerts.get(fp);
        if (p && alert) out.push({ change: p.change, alert });
      }
      return out;
    },
  };
}

export class PromptEdits {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly o: {
      queue: NotifyQueue;
      log: NotificationLog;
      digests: Digests;
      pacing: EditPacing;
      /** The group of a taken change may be left empty: its group timer must not fire for nothing. */
      groupDrained(lane: string, group: string): void;
    },
  ) {}

  /** After a restart: changes still queued for alerts with their own message wait here again, not for their group. */
  restore(laneOf: (key: string) => Lane | undefined): void {
    for (const p of this.o.queue.pendingForOwnMessages()) {
      if (laneOf(p.lane)?.kind !== 'chat') continue;
      const key = `${p.lane}\u0000${p.fingerprint}`;
      if (!this.waiting.has(key)) this.waiting.set(key, { lane: p.lane, fingerprint: p.fingerprint, refKey: p.refKey, since: p.at });
    }
  }

  /** A change was queued for `lane`: is it for an alert that has its own message there? Then it waits here. */
  queued(lane: Lane, fingerprint: string, now: number): void {
    if (lane.kind !== 'chat') return;
    const log = this.o.log.get(lane.key, fingerprint);
    if (!log || !log.refKey || log.folded) return;
    const key = `${lane.key}\u0000${fingerprint}`;
    if (!this.waiting.has(key)) this.waiting.set(key, { lane: lane.key, fingerprint, refKey: log.refKey, since: now });
  }

  /** Alerts of `lane` whose change waits here for their message's next allowed edit. */
  held(lane: string): Set<string> {
    const out = new Set<string>();
    for (const w of this.waiting.values()) if (w.lane === lane) out.add(w.fingerprint);
    return out;
  }

  /**
   * Flushes every waiting change whose message may be edited now, each through mute → dedup → digest → outbox.
   * `flush` runs the stages in one transaction. Returns how many were flushed.
   */
  run(now: number, laneOf: (key: string) => Lane | undefined, flush: (lane: Lane, stages: Stage[], group: string) => void): number {
    const due = new Map<string, { lane: Lane; items: Waiting[] }>();
    for (const [key, w] of this.waiting) {
      const lane = laneOf(w.lane);
      if (!lane) {
        this.waiting.delete(key);
        continue;
      }
      // A live storm digest takes everything on this lane (its own cadence); the group flush carries the change.
      if (this.o.digests.get(w.lane)?.active) {
        this.waiting.delete(key);
        continue;
      }
      if (now < this.o.pacing.messageEditableAt(w.lane, w.refKey)) continue;
      const entry = due.get(w.lane) ?? { lane, items: [] };
      entry.items.push(w);
      due.set(w.lane, entry);
    }
    let n = 0;
    for (const { lane, items } of due.values()) {
      // Counted again per lane: the lanes flushed before this one may share its platform's workspace limit.
      const room = this.o.pacing.room(lane, now);
      const take = items.sort((a, b) => a.since - b.since).slice(0, room);
      if (take.length === 0) continue;
      const groups = new Set<string>();
      for (const w of take) {
        const group = this.o.queue.groupOf(lane.key, w.fingerprint);
        if (group !== undefined) groups.add(group);
      }
      flush(lane, [takeStage(take.map((w) => w.fingerprint)), silenceStage, inhibitStage, dedupStage, digestStage, outboxStage], [...groups][0] ?? '');
      for (const w of take) this.waiting.delete(`${lane.key}\u0000${w.fingerprint}`);
      for (const g of groups) if (this.o.queue.groupSize(lane.key, g) === 0) this.o.groupDrained(lane.key, g);
      n += take.length;
    }
    return n;
  }
}
