import type { Platform } from '../adapters/chat.js';
import type { Store } from './db.js';

export interface DeliveryRef {
  platform: Platform;
  channelId: string;
  messageId: string;
  threadId?: string;
}

interface Raw {
  platform: Platform;
  channel_id: string;
  message_id: string;
  thread_id: string | null;
  lane: string;
  ref_key: string;
}

/**
 * Where each logical message (an alert's message, a storm digest) landed on each channel: the platform
 * message id (Slack ts / Discord snowflake) and its thread, so later edits and thread replies find it after
 * restarts.
 */
export class Deliveries {
  private readonly stmts;

  constructor(store: Store) {
    this.stmts = {
      save: store.db.prepare(
        `INSERT INTO deliveries (lane, ref_key, platform, channel_id, message_id, thread_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(lane, ref_key) DO UPDATE SET platform = excluded.platform, channel_id = excluded.channel_id,
           message_id = excluded.message_id, thread_id = excluded.thread_id`,
      ),
      get: store.db.prepare(`SELECT * FROM deliveries WHERE lane = ? AND ref_key = ?`),
      thread: store.db.prepare(`UPDATE deliveries SET thread_id = ? WHERE lane = ? AND ref_key = ?`),
      byMessage: store.db.prepare(`SELECT * FROM deliveries WHERE platform = ? AND message_id = ? LIMIT 1`),
    };
  }

  save(lane: string, refKey: string, ref: DeliveryRef, now: number): void {
    this.stmts.save.run(lane, refKey, ref.platform, ref.channelId, ref.messageId, ref.threadId ?? null, now);
  }

  get(lane: string, refKey: string): DeliveryRef | undefined {
    const r = this.stmts.get.get(lane, refKey) as Raw | undefined;
    return r ? toRef(r) : undefined;
  }

  setThread(lane: string, refKey: string, threadId: string): void {
    this.stmts.thread.run(threadId, lane, refKey);
  }

  /** Which logical message a platform message is (e.g. for a button click on it). */
  findByMessage(platform: string, messageId: string): { lane: string; refKey: string; ref: DeliveryRef } | undefined {
    const r = this.stmts.byMessage.get(platform, messageId) as Raw | undefined;
    return r ? { lane: r.lane, refKey: r.ref_key, ref: toRef(r) } : undefined;
  }
}

function toRef(r: Raw): DeliveryRef {
  return {
    platform: r.platform,
    channelId: r.channel_id,
    messageId: r.message_id,
    ...(r.thread_id ? { threadId: r.thread_id } : {}),
  };
}
