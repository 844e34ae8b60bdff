import type { Block, Message } from '../../src/messages/model.js';

/**
 * Messages that exercise every block type and every platform limit, rendered by both renderers' golden-file
 * tests (test/adapters/<platform>/render.test.ts). Deterministic: no clock, no random ids.
 */
export const EVERY_BLOCK: Message = {
  fallback: 'CRITICAL · node-flapping · laptop: laptop flapped 7 times in 5 min',
  tone: 'critical',
  blocks: [
    { type: 'header', text: 'CRITICAL · node-flapping · laptop' },
    { type: 'text', text: 'laptop flapped 7 times in 5 min <@U123> & <!channel> *not bold*' },
    {
      type: 'fields',
      fields: [
        { label: 'Severity', value: 'critical' },
        { label: 'Subject', value: 'laptop' },
        { label: 'Empty', value: '' },
      ],
    },
    { type: 'code', text: 'line one\nline ``` two <b>' },
    { type: 'table', columns: ['id', 'name', 'online'], rows: [['1', 'laptop', 'yes'], ['12', 'server-long-name', 'no']] },
    {
      type: 'buttons',
      buttons: [
        { actionId: 'silence:node-flapping:laptop:1h', label: 'Silence 1h', style: 'default' },
        { actionId: 'hw:approve:1:abcdefgh', label: 'Approve', style: 'primary' },
        { actionId: 'hw:deny:1:abcdefgh', label: 'Deny', style: 'danger' },
      ],
    },
    { type: 'context', text: 'fingerprint node-flapping:laptop · since 2026-11-26T09:50:00Z' },
    { type: 'header', text: 'A second header' },
    { type: 'context', text: 'second context line' },
  ],
};

export const TONES: Message[] = (['critical', 'warning', 'info', 'ok', 'neutral'] as const).map((tone) => ({
  fallback: `${tone} message`,
  tone,
  blocks: [{ type: 'header', text: `${tone} header` }],
}));

export const EPHEMERAL_TEXT_ONLY: Message = { fallback: 'only the fallback', tone: 'info', blocks: [], ephemeral: true };

/** 60 text blocks: more than Slack's 50 blocks a message. */
export const TOO_MANY_BLOCKS: Message = {
  fallback: 'sixty blocks',
  tone: 'info',
  blocks: Array.from({ length: 60 }, (_, i): Block => ({ type: 'text', text: `block ${i + 1}` })),
};

/** Each part longer than its limit: header, section text, code, field, context, button label. */
export const OVERLONG_PARTS: Message = {
  fallback: 'f'.repeat(3500),
  tone: 'warning',
  blocks: [
    { type: 'header', text: 'H'.repeat(300) },
    { type: 'text', text: 't'.repeat(5000) },
    { type: 'code', text: 'c'.repeat(5000) },
    { type: 'fields', fields: [{ label: 'L'.repeat(300), value: 'v'.repeat(2500) }] },
    { type: 'context', text: 'x'.repeat(3500) },
    { type: 'buttons', buttons: [{ actionId: `a:${'i'.repeat(150)}`, label: 'B'.repeat(100) }] },
  ],
};

/** 30 fields: more than Slack's 10 a section and Discord's 25 an embed. */
export const MANY_FIELDS: Message = {
  fallback: 'thirty fields',
  tone: 'info',
  blocks: [{ type: 'fields', fields: Array.from({ length: 30 }, (_, i) => ({ label: `field ${i + 1}`, value: `value ${i + 1}` })) }],
};

/** 30 buttons: more than Slack's 25 an actions block, Discord's 5 a row and 5 rows. */
export const MANY_BUTTONS: Message = {
  fallback: 'thirty buttons',
  tone: 'neutral',
  blocks: [{ type: 'buttons', buttons: Array.from({ length: 30 }, (_, i) => ({ actionId: `b${i + 1}`, label: `Button ${i + 1}` })) }],
};

/** Within every per-part Discord limit, but far over its 6000 characters an embed in all. */
export const OVER_EMBED_TOTAL: Message = {
  fallback: 'a big table',
  tone: 'info',
  blocks: [
    { type: 'header', text: 'T'.repeat(200) },
    { type: 'text', text: 'd'.repeat(4000) },
    { type: 'fields', fields: Array.from({ length: 10 }, (_, i) => ({ label: `field ${i + 1}`, value: `${i}`.repeat(900) })) },
    { type: 'context', text: 'footer text' },
  ],
};
