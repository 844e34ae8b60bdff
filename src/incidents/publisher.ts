import type { Logger } from 'pino';
import type { Alert } from '../alerts/model.js';
import type { ImageAttachment, Message } from '../messages/model.js';
import type { IncidentPosts } from '../store/incident-posts.js';
import type { Incident, IncidentTransition } from './model.js';

/** What the publisher needs from the dispatcher: where alerts are routed, and its durable chat outbox. */
export interface IncidentChannels {
  /** Chat lanes (`slack:C123`, `discord:456`) the routes send this alert to. */
  chatLanesFor(alert: Alert): string[];
  /**
   * May the message `refKey` on `lane` be edited now? The dispatcher's one rule for every chat message
   * (src/dispatch/edit-pacing.ts): one edit per HEADWATCH_EDIT_INTERVAL, room in the channel's platform limits.
   */
  mayEdit(lane: string, refKey: string, now: number): boolean;
  /** Enqueues chat posts, edits and thread replies (by ref key), in order per lane, durably. */
  enqueueChat(rows: { lane: string; op: 'post' | 'edit' | 'reply'; refKey: string; message: Message }[]): void;
}

export interface IncidentSource {
  get(id: number): Incident | undefined;
  message(id: number, now: number): Message | undefined;
  /** Member alerts (bounded): their routes decide the incident's channels. */
  memberAlerts(id: number, limit: number): Alert[];
}

export interface IncidentPublisherOptions {
  posts: IncidentPosts;
  incidents: IncidentSource;
  channels: IncidentChannels;
  /** True while a silence covers the incident: its message is kept current, but no thread line pings anyone. */
  silenced(incident: Incident): boolean;
  /** How long a new incident waits before its first post, so alerts arriving together are in it (GROUP_WAIT). */
  postWaitMs: number;
  clock: () => number;
  logger: Logger;
  tickMs?: number;
  /** A member's picture for the first post (the CPU chart of a cpu-sustained member). */
  imageFor?(alert: Alert): ImageAttachment | undefined;
}

/** Thread lines per incident per flush; more are counted, not posted (a 300-node storm is one line). */
const MAX_NOTES = 8;

export function incidentRefKey(id: number): string {
  return `incident:${id}`;
}

/**
 * Turns incident changes into chat messages: one top-level message per incident and channel, posted once after
 * postWaitMs, then edited in place as members join, change and clear, with a thread
 * line per member that joins or clears. Edits follow the same pacing as alert messages (IncidentChannels.mayEdit):
 * changes are gathered while the message may not be edited, so a storm of member changes is one edit. What is pending survives a restart (IncidentPosts); delivery, retries and
 * order are the dispatcher's outbox. An incident that cleared before its first post is not posted at all, like
 * an alert that resolves within its group wait.
 */
export class IncidentPublisher {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly o: IncidentPublisherOptions) {}

  /** Records what the correlator decided (call inside its transaction so both commit together). */
  noteTransitions(transitions: IncidentTransition[]): void {
    // Our clock, not the alert's: a finding's time can be a log line's, long before it reached headwatch.
    const now = this.o.clock();
    for (const t of transitions) this.o.posts.markDirty(t.incident.id, now, t.note);
  }

  /** An incident's message needs redrawing for a reason other than an alert (a Re-register step). */
  changed(incidentId: number, note?: string): void {
    this.o.posts.markDirty(incidentId, this.o.clock(), note);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      try {
        this.flush();
      } catch (err) {
        this.o.logger.error({ err: (err as Error).message }, 'publishing incident messages failed; will retry');
      }
    }, this.o.tickMs ?? 500);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Publishes every incident that is due; returns how many were handed to the outbox. */
  flush(now = this.o.clock()): number {
    let n = 0;
    for (const d of this.o.posts.dirty()) {
      if (this.o.posts.transaction(() => this.publish(d.incidentId, d.since, d.notes, now))) n++;
    }
    return n;
  }

  private publish(id: number, since: number, notes: string[], now: number): boolean {
    const incident = this.o.incidents.get(id);
    const posts = this.o.posts.posts(id);
    if (!incident || (posts.length === 0 && incident.status !== 'open')) {
      this.o.posts.clean(id);
      return false;
    }
    if (posts.length === 0 && now - since < this.o.postWaitMs) return false;
    const refKey = incidentRefKey(id);
    if (posts.some((p) => !this.o.channels.mayEdit(p.lane, refKey, now))) return false;
    const message = this.o.incidents.message(id, now);
    if (!message) {
      this.o.posts.clean(id);
      return false;
    }
    const known = new Set(posts.map((p) => p.lane));
    const lanes = incident.status === 'open' ? this.lanesOf(id) : [];
    const rows: Parameters<IncidentChannels['enqueueChat']>[0] = [];
    for (const lane of known) rows.push({ lane, op: 'edit', refKey, message });
    const first = lanes.some((l) => !known.has(l)) ? this.withImages(id, message) : message;
    for (const lane of lanes) {
      if (known.has(lane)) continue;
      rows.push({ lane, op: 'post', refKey, message: first });
      this.o.posts.addPost(id, lane, now);
    }
    // Lines from before the first post are in the message itself; later ones go to the thread.
    if (known.size > 0 && notes.length > 0 && !this.o.silenced(incident)) {
      const reply = threadMessage(notes);
      for (const lane of known) rows.push({ lane, op: 'reply', refKey, message: reply });
    }
    if (rows.length === 0) {
      if (lanes.length === 0 && known.size === 0) this.o.logger.info({ incident: id }, 'incident routed to no chat channel (HEADWATCH_ROUTES); it is on the console and webhook only');
      this.o.posts.clean(id);
      return false;
    }
    this.o.channels.enqueueChat(rows);
    for (const lane of new Set([...known, ...lanes])) this.o.posts.published(id, lane, now);
    this.o.posts.clean(id);
    return true;
  }

  /** Pictures ride on the first post only (Slack puts them in the thread, Discord on the message). */
  private withImages(id: number, message: Message): Message {
    if (!this.o.imageFor) return message;
    const images = this.o.incidents
      .memberAlerts(id, 20)
      .filter((a) => a.status === 'firing')
      .map((a) => this.o.imageFor!(a))
      .filter((i): i is ImageAttachment => i !== undefined)
      .slice(0, 3);
    return images.length > 0 ? { ...message, images } : message;
  }

  /** The chat lanes the incident's member alerts are routed to, in a stable order. */
  private lanesOf(id: number): string[] {
    const lanes = new Set<string>();
    for (const a of this.o.incidents.memberAlerts(id, 50)) for (const l of this.o.channels.chatLanesFor(a)) lanes.add(l);
    return [...lanes].sort();
  }
}

function threadMessage(notes: string[]): Message {
  const shown = notes.slice(0, MAX_NOTES);
  const more = notes.length - shown.length;
  const text = shown.join('\n') + (more > 0 ? `\n…and ${more} more change${more === 1 ? '' : 's'} (the message above is current)` : '');
  return { fallback: shown[0] ?? 'incident updated', tone: 'info', blocks: [{ type: 'text', text }] };
}
