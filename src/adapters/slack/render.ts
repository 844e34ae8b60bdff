import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;
import type { Block, Message, Tone } from '../../messages/model.js';

/** Turns the neutral Message into Slack Block Kit, within Slack's size limits. */

export type SlackBlock = Record<string, unknown>;

const TONE_MARK: Record<Tone, string> = { critical: '🔴', warning: '🟠', info: 'ℹ️', ok: '✅', neutral: '' };
const MAX_SECTION = 3000;
const MAX_HEADER = 150;
const MAX_FIELD = 2000;
const MAX_BLOCKS = 50;

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Slack mrkdwn treats &, < and > specially; user-supplied text must not create mentions or links. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function codeBlock(text: string): string {
  return cut('```' + escapeMrkdwn(text.replace(/```/g, "'''")) + '```', MAX_SECTION);
}

function renderBlock(b: Block, tone: Tone, first: boolean): SlackBlock[] {
  switch (b.type) {
    case 'header': {
      const mark = first && TONE_MARK[tone] ? `${TONE_MARK[tone]} ` : '';
      return [{ type: 'header', text: { type: 'plain_text', text: cut(mark + b.text, MAX_HEADER), emoji: true } }];
    }
    case 'text':
      return [{ type: 'section', text: { type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), MAX_SECTION) } }];
    case 'fields':
      return chunk(b.fields, 10).map((fs) => ({
        type: 'section',
        fields: fs.map((f) => ({ type: 'mrkdwn', text: cut(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, MAX_FIELD) })),
      }));
    case 'code':
      return [{ type: 'section', text: { type: 'mrkdwn', text: codeBlock(b.text) } }];
    case 'table': {
      const widths = b.columns.map((c, i) => Math.max(c.length, ...b.rows.map((r) => (r[i] ?? '').length)));
      const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
      return [{ type: 'section', text: { type: 'mrkdwn', text: codeBlock([line(b.columns), ...b.rows.map(line)].join('\n')) } }];
    }
    case 'buttons':
      return chunk(b.buttons, 25).map((bs) => ({
        type: 'actions',
        elements: bs.map((btn) => ({
          type: 'button',
          action_id: btn.actionId,
          text: { type: 'plain_text', text: cut(btn.label, 75), emoji: true },
          ...(btn.style && btn.style !== 'default' ? { style: btn.style } : {}),
        })),
      }));
    case 'context':
      return [{ type: 'context', elements: [{ type: 'mrkdwn', text: cut(escapeMrkdwn(b.text), MAX_SECTION) }] }];
  }
}

export function renderSlack(m: Message): { text: string; blocks: KnownBlock[] } {
  const blocks: SlackBlock[] = [];
  m.blocks.forEach((b, i) => blocks.push(...renderBlock(b, m.tone, i === 0)));
  if (blocks.length > MAX_BLOCKS) {
    blocks.length = MAX_BLOCKS - 1;
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: '…truncated' }] });
  }
  const mark = TONE_MARK[m.tone];
  // Built as plain objects above; the shapes follow Block Kit's reference.
  return { text: cut(`${mark ? `${mark} ` : ''}${m.fallback}`, 3000), blocks: blocks as unknown as KnownBlock[] };
}

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
