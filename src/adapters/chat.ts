import type { ImageAttachment, Message } from '../messages/model.js';

/**
 * The seam between chat platforms and the rest of headwatch. Slack and Discord adapters implement
 * ChatAdapter; everything else speaks only these platform-neutral types.
 */
export type Platform = 'slack' | 'discord';

/** Where a posted message lives, so it can be edited or replied to in its thread later. */
export interface MessageRef {
  platform: Platform;
  channelId: string;
  /** Slack `ts`, Discord message id. */
  messageId: string;
  /** Thread the message belongs to (Slack thread_ts / Discord thread channel id), when it is a reply. */
  threadId?: string;
}

/** A slash command as the user typed it, parsed by the adapter into neutral form. */
export interface Invocation {
  platform: Platform;
  /** Platform user id; principals are written `<platform>:<userId>`. */
  userId: string;
  userName?: string;
  channelId: string;
  /** Subcommand name as typed (may be unknown or empty: the router answers with help). */
  subcommand: string;
  /** Slack: the raw text after the command. Discord: rebuilt from the typed options. */
  rawText: string;
  /** Discord typed options (already split); Slack leaves this empty and the router parses rawText. */
  options?: Record<string, string | number | boolean>;
}

/**
 * How a command answers. Adapters implement it per platform so the 3 s acknowledgement deadline is met
 * before any slow work starts.
 */
export interface Responder {
  /** Acknowledge now with a placeholder ("working…"); must be called within 3 s. */
  ack(placeholder: Message): Promise<void>;
  /** Replace the placeholder with the final answer. */
  replace(message: Message): Promise<void>;
  /** Something only the invoking user sees (Slack ephemeral / DM, Discord ephemeral follow-up). */
  private(message: Message): Promise<void>;
  /** A normal channel message (e.g. an approval card); returns where it is, for later edits. */
  post(message: Message): Promise<MessageRef>;
}

export interface ButtonClick {
  platform: Platform;
  userId: string;
  userName?: string;
  channelId: string;
  actionId: string;
  /** The message carrying the button. */
  message: MessageRef;
  respond: Responder;
}

export interface InteractionHandler {
  onCommand(invocation: Invocation, respond: Responder): Promise<void>;
  onButton(click: ButtonClick): Promise<void>;
}

export interface PlatformStatus {
  platform: Platform;
  connected: boolean;
  /** ms epoch of the last connection state change. */
  since: number;
  lastError?: string;
}

export interface SendOptions {
  /** Unique per outbox row; sent along (Discord nonce, Slack message metadata) to recognise retries. */
  idempotencyKey?: string;
}

export interface ChatAdapter {
  readonly platform: Platform;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): PlatformStatus;
  setHandler(handler: InteractionHandler): void;
  /**
   * Post to a channel (or into a thread when `threadOf` is given). Throws DeliveryError. The returned ref's
   * `threadId` is the thread the message went into (Discord creates one on the first reply).
   */
  send(channelId: string, message: Message, threadOf?: MessageRef, opts?: SendOptions): Promise<MessageRef>;
  /**
   * Finds a message sent earlier with `opts.idempotencyKey` (after an attempt whose answer was lost), so the
   * outbox never posts it twice. Optional: platforms that de-duplicate server-side need not implement it.
   */
  findSent?(channelId: string, idempotencyKey: string, opts: { threadOf?: MessageRef; sinceMs: number }): Promise<MessageRef | undefined>;
  /** A private message to one user (Slack: the app's DM; Discord: a DM channel). Throws DeliveryError. */
  directMessage(userId: string, message: Message): Promise<MessageRef>;
  /** Edit a posted message in place. Throws DeliveryError. */
  edit(ref: MessageRef, message: Message): Promise<void>;
  /**
   * Adds a picture to a posted message: Slack uploads it into the message's thread, Discord attaches it to the
   * message itself. Throws DeliveryError.
   */
  attachImage(ref: MessageRef, image: ImageAttachment): Promise<void>;
}
