import type { Block, Message, Tone } from '../messages/model.js';

/** Small builders so every command answers in the same shape. */
export function message(fallback: string, tone: Tone, blocks: Block[], ephemeral?: boolean): Message {
  return { fallback, tone, blocks, ...(ephemeral ? { ephemeral: true } : {}) };
}

export function text(t: string, tone: Tone = 'neutral', ephemeral?: boolean): Message {
  return message(t, tone, [{ type: 'text', text: t }], ephemeral);
}

/** "5m ago", "3h ago", "never". */
export function ago(iso: string | null | undefined, now: number): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return 'unknown';
  const s = Math.max(0, Math.round((now - t) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

export function utc(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

export function humanDuration(ms: number): string {
  const units: [number, string][] = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1000, 's'],
  ];
  for (const [size, unit] of units) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${Math.round(ms / 1000)}s`;
}

export const PAGE_SIZE = 20;
/** Characters of table text per page: Slack sections hold 3000, Discord embed descriptions 4096. */
export const PAGE_CHARS = 2400;

/**
 * One page of rows plus a line saying which page this is and how to get the next, so a long list is never cut
 * off silently (neither here nor by a platform's size limit: wide rows make pages shorter). `page` is 1-based;
 * out-of-range pages clamp to the last.
 */
export function paginate<T>(
  rows: T[],
  page: number,
  nextHint: (page: number) => string,
  cells?: (row: T) => string[],
): { rows: T[]; footer?: string; page: number; pages: number } {
  let size = PAGE_SIZE;
  if (cells && rows.length > 0) {
    // Tables are rendered as fixed-width text: every line is as wide as the widest cell of each column.
    const widths: number[] = [];
    for (const r of rows) cells(r).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
    const lineWidth = widths.reduce((a, w) => a + w + 2, 0);
    size = Math.max(1, Math.min(PAGE_SIZE, Math.floor(PAGE_CHARS / (lineWidth + 1)) - 1));
  }
  const pages = Math.max(1, Math.ceil(rows.length / size));
  const p = Math.min(Math.max(1, page), pages);
  const slice = rows.slice((p - 1) * size, p * size);
  if (pages === 1) return { rows: slice, page: p, pages };
  const footer =
    p < pages
      ? `Page ${p} of ${pages} (${rows.length} rows). Next: ${nextHint(p + 1)}`
      : `Page ${p} of ${pages} (${rows.length} rows).`;
  return { rows: slice, footer, page: p, pages };
}

/** Caps one table cell; the full value stays available elsewhere (e.g. the alert's fingerprint). */
export function cell(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
