import type { Outbox } from '../store/outbox.js';
import type { Lane } from './lanes.js';

/**
 * The one rule for editing a chat message, whoever owns it (an alert's message, an incident's, the storm digest):
 * at most one edit per message per spacing (HEADWATCH_EDIT_INTERVAL; the digest uses its group interval), and per
 * channel within the platform's published limits. Both are counted from the outbox's edit rows, which are written
 * in the transaction that decided the edit: the count survives a restart, so a crash loop cannot edit a message
 * again at once, and every kind of edit (prompt, group flush, incident, digest) counts against the same limits.
 * A 429 that gets through anyway is the outbox's to wait out (Retry-After, in order, durably).
 */

/**
 * Edits we allow ourselves, under the platforms' limits. Discord: the per-channel message bucket answers
 * X-RateLimit-Limit 5 with Reset-After 5 s (discord.js reads those headers and refuses a request the bucket has no
 * room for; the adapter turns that into a wait in the outbox). Slack: chat.update is Tier 3 (50+ per minute per
 * workspace, so per destination across its channels) and Slack asks for no more than one message per second per
 * channel. What is over waits for the next window.
 */
export interface EditLimit {
  /** `lane`: one channel; `destination`: every channel of the platform's workspace (the bot token). */
  scope: 'lane' | 'destination';
  limit: number;
  windowMs: number;
}

export const EDIT_LIMITS: Record<string, readonly EditLimit[]> = {
  discord: [{ scope: 'lane', limit: 4, windowMs: 5_000 }],
  slack: [
    { scope: 'destination', limit: 40, windowMs: 60_000 },
    { scope: 'lane', limit: 1, windowMs: 1_000 },
  ],
};
const DEFAULT_LIMITS: readonly EditLimit[] = [{ scope: 'lane', limit: 4, windowMs: 5_000 }];

export class EditPacing {
  constructor(
    private readonly outbox: Outbox,
    /** The lane of an outbox lane key (its destination decides the limits). */
    private readonly laneOf: (key: string) => Lane | undefined,
    readonly editIntervalMs: number,
  ) {}

  /** Earliest time the message `refKey` on `lane` may be edited again, by its own last edit. */
  messageEditableAt(lane: string, refKey: string, spacingMs = this.editIntervalMs): number {
    const last = this.outbox.lastEditAt(lane, refKey);
    return last === undefined ? -Infinity : last + spacingMs;
  }

  /** How many more edits `lane`'s channel takes at `now` under its platform's limits. */
  room(lane: Lane, now: number): number {
    const limits = EDIT_LIMITS[lane.destination] ?? DEFAULT_LIMITS;
    const longest = Math.max(...limits.map((l) => l.windowMs));
    const edits = this.outbox.editTimesSince(now - longest);
    let room = Infinity;
    for (const l of limits) {
      let n = 0;
      for (const e of edits) {
        if (e.at <= now - l.windowMs) continue;
        if (l.scope === 'lane' ? e.lane === lane.key : this.laneOf(e.lane)?.destination === lane.destination) n++;
      }
      room = Math.min(room, l.limit - n);
    }
    return Math.max(0, room);
  }

  /** May `refKey` on `lane` be edited at `now`: its own spacing is over and the channel has room. */
  mayEdit(lane: Lane, refKey: string, now: number, spacingMs = this.editIntervalMs): boolean {
    return now >= this.messageEditableAt(lane.key, refKey, spacingMs) && this.room(lane, now) > 0;
  }
}
