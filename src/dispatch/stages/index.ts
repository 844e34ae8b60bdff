import { dedupStage } from './dedup.js';
import { digestStage } from './digest.js';
import { groupStage } from './group.js';
import { inhibitStage, silenceStage } from './mute.js';
import { outboxStage } from './outbox.js';
import type { Flush, Notification, Stage } from './types.js';

/**
 * The notification path of one group flush, in order, the way Alertmanager's notify.go composes its stages:
 *
 *   group    take the group's queued changes, as the alerts are now        (group.ts)
 *   silence  drop firing alerts an active silence matches                  (mute.ts)
 *   inhibit  drop firing alerts whose parent alert fires                   (mute.ts)
 *   dedup    decide against the notification log what is worth saying      (dedup.ts)
 *   digest   fold what exceeds the channel budget into the storm digest    (digest.ts)
 *   outbox   write the posts, edits, thread lines and batches durably      (outbox.ts)
 *
 * Muting comes after grouping, as in Alertmanager, so a silence created while a group waits still applies to it.
 * A flush runs in ONE transaction with the outbox rows it creates, so a crash either loses the whole decision
 * (the queued changes are still there) or keeps all of it. The outbox is drained by src/dispatch/delivery.ts.
 */
export const NOTIFY_STAGES: readonly Stage[] = [groupStage, silenceStage, inhibitStage, dedupStage, digestStage, outboxStage];

/** Runs a flush through the stages; stops as soon as nothing is left to say. Call inside a transaction. */
export function runFlush(flush: Flush, stages: readonly Stage[] = NOTIFY_STAGES): void {
  let batch: Notification[] = [];
  for (const stage of stages) {
    batch = stage.run(flush, batch);
    if (batch.length === 0) return;
  }
}
