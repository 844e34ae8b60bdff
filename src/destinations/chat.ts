import type { Logger } from 'pino';
import type { ChatAdapter, MessageRef } from '../adapters/chat.js';
import type { Metrics } from '../http/metrics.js';
import type { Message } from '../messages/model.js';
import { attempt, cannotTake, type Delivery, type Destination, type Notified } from './destination.js';

export interface ChatDestinationOptions {
  displayName: string;
  defaultChannel?: string;
  channelSetting: string;
  credentialSettings?: readonly string[];
  /** Where a picture that could not be attached is told (the message itself was delivered). */
  logger?: Logger;
  metrics?: Metrics;
}

/**
 * A chat platform as a destination: posts, thread replies and edits through its adapter. After an attempt whose
 * answer was lost it first looks for the message it may have posted (adapter.findSent), so nothing is posted
 * twice. The platform's own folder says which channel is its default (src/adapters/<platform>/destination.ts).
 */
export class ChatDestination implements Destination {
  readonly kind = 'chat' as const;
  readonly name: string;
  readonly displayName: string;
  readonly defaultChannel?: string;
  readonly channelSetting: string;
  readonly credentialSettings?: readonly string[];

  constructor(
    private readonly adapter: ChatAdapter,
    private readonly o: ChatDestinationOptions,
  ) {
    this.name = adapter.platform;
    this.displayName = o.displayName;
    this.channelSetting = o.channelSetting;
    if (o.credentialSettings) this.credentialSettings = o.credentialSettings;
    if (o.defaultChannel) this.defaultChannel = o.defaultChannel;
  }

  status(): { connected: boolean; since: number; lastError?: string } {
    return this.adapter.status();
  }

  notify(d: Delivery): Promise<Notified> {
    const adapter = this.adapter;
    switch (d.op) {
      case 'alerts':
        return Promise.resolve(cannotTake(this, d));
      case 'edit':
        return attempt(() => adapter.edit(d.ref, d.message));
      case 'reply':
        return attempt(async () => {
          const found = d.once.mayExist && adapter.findSent ? await adapter.findSent(d.channelId, d.once.idempotencyKey, { threadOf: d.parent, sinceMs: d.once.sinceMs }) : undefined;
          return found ?? (await adapter.send(d.channelId, d.message, d.parent, { idempotencyKey: d.once.idempotencyKey }));
        });
      case 'post':
        return attempt(async () => {
          const found = d.once.mayExist && adapter.findSent ? await adapter.findSent(d.channelId, d.once.idempotencyKey, { sinceMs: d.once.sinceMs }) : undefined;
          if (found) return found;
          const ref = await adapter.send(d.channelId, d.message, undefined, { idempotencyKey: d.once.idempotencyKey });
          await this.attachImages(ref, d.message);
          return ref;
        });
    }
  }

  /**
   * Pictures of a posted message (CPU charts): Slack uploads them into its thread, Discord attaches them to
   * it. The message itself is already delivered, so a failed upload is logged and counted, never retried
   * in a way that could post the message twice, and never holds the lane.
   */
  private async attachImages(ref: MessageRef, message: Message): Promise<void> {
    for (const image of message.images ?? []) {
      try {
        await this.adapter.attachImage(ref, image);
      } catch (err) {
        this.o.metrics?.notifierFailures.inc({ notifier: `${this.name}-chart` });
        this.o.logger?.warn({ destination: `${this.name}:${ref.channelId}`, file: image.filename }, `chart not attached (the message was delivered): ${(err as Error).message}`);
      }
    }
  }
}
