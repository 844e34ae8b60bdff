import { nowNs } from './logs.js';

/** Where a container's log was left, as the store keeps it (src/store/log-cursors.ts). */
export interface SavedLogPosition {
  containerId: string;
  ns: bigint;
  seenAtNs: number;
}

/** Where to start following a container's log, and why, for the log line that says so. */
export interface ResumePoint {
  startNs: bigint;
  /** Messages at `startNs` already processed (skipped, so none is processed twice). */
  seenAtStart: number;
  /** Set when the start is not plainly "where it was left" or "now". */
  note?: string;
}

/**
 * Where a container found at start (or by a new leader) is read from: where its log was left, so lines written
 * while nobody read them (a restart, a takeover) go through the detectors too, but never more than `maxMs` back
 * (an old cursor after a long downtime would replay hours of lines). A container recreated meanwhile (another
 * id) has a log of its own, read from its start within the same bound. One never read before is read from now —
 * unless it started after watching began (it came up while headwatch was still listing the engine, e.g. both
 * started by one `compose up`): then everything it printed is new, and it is read from when watching began
 * (`watchingSinceMs`). Not from its State.StartedAt: the engine records that after the process is running, so a
 * process that prints at once has lines stamped a few milliseconds before it (seen in CI: all 32 lost).
 */
export function resumePoint(
  saved: SavedLogPosition | undefined,
  containerId: string,
  nowMs: number,
  maxMs: number,
  watchingSinceMs?: number,
): ResumePoint {
  const now = nowNs(nowMs);
  const floor = nowNs(nowMs - maxMs);
  if (!saved || saved.containerId !== containerId) {
    if (watchingSinceMs !== undefined) {
      const from = nowNs(Math.max(Math.min(watchingSinceMs, nowMs), nowMs - maxMs));
      return { startNs: from, seenAtStart: 0 };
    }
  }
  if (!saved) return { startNs: now, seenAtStart: 0 };
  const minutes = `${Math.round(maxMs / 60_000)} min`;
  if (saved.containerId !== containerId) {
    return { startNs: floor, seenAtStart: 0, note: `recreated while its log was not read: reading the new container's log from its start (at most ${minutes} back)` };
  }
  if (saved.ns < floor) {
    const behindS = Number((now - saved.ns) / 1_000_000_000n);
    return { startNs: floor, seenAtStart: 0, note: `its log was last read ${behindS} s ago: lines older than ${minutes} (HEADWATCH_LOG_CATCHUP_MAX) are skipped` };
  }
  return { startNs: saved.ns, seenAtStart: saved.seenAtNs };
}
