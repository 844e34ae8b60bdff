/**
 * Platform-neutral message model. Notifiers and commands produce these; only the Slack and Discord adapters
 * turn them into Block Kit or embeds/components. No platform type may appear outside src/adapters/<platform>.
 */
export type Tone = 'critical' | 'warning' | 'info' | 'ok' | 'neutral';

export type Block =
  | { type: 'header'; text: string }
  | { type: 'text'; text: string }
  | { type: 'fields'; fields: { label: string; value: string }[] }
  | { type: 'code'; text: string }
  | { type: 'table'; columns: string[]; rows: string[][] }
  | { type: 'buttons'; buttons: Button[] }
  | { type: 'context'; text: string };

export interface Button {
  /** Opaque action id routed back to headwatch on click (carries the nonce for approvals). */
  actionId: string;
  label: string;
  style?: 'primary' | 'danger' | 'default';
}

/**
 * A picture that belongs to a message (a CPU chart). Base64 so the message stays plain JSON in the outbox.
 * Slack uploads it into the message's thread (files.getUploadURLExternal + files.completeUploadExternal);
 * Discord attaches it to the message itself. Text destinations ignore it and show `altText` if anything.
 */
export interface ImageAttachment {
  filename: string;
  title: string;
  altText: string;
  pngBase64: string;
  width: number;
  height: number;
}

export interface Message {
  /** Plain-text fallback used for notifications and platforms without rich rendering. */
  fallback: string;
  tone: Tone;
  blocks: Block[];
  /** Only the invoking user sees it (Slack ephemeral, Discord ephemeral flag). */
  ephemeral?: boolean;
  images?: ImageAttachment[];
}
