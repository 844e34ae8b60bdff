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

export interface Message {
  /** Plain-text fallback used for notifications and platforms without rich rendering. */
  fallback: string;
  tone: Tone;
  blocks: Block[];
  /** Only the invoking user sees it (Slack ephemeral, Discord ephemeral flag). */
  ephemeral?: boolean;
}
