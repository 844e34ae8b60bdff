import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { cell, message, paginate } from '../src/interaction/format.js';

/** `audit [n]`: the newest audit rows and whether the hash chain still verifies. Shown only to the caller. */
export const auditCommand = defineCommand({
  name: 'audit',
  description: 'Last audit rows (default 10, max 50) and whether the hash chain verifies',
  options: [
    { name: 'n', description: 'How many rows (1–50)', type: 'integer', positional: true },
    { name: 'page', description: 'Page, when the rows do not fit in one message', type: 'integer' },
  ],
  access: 'review',
  private: true,
  needsApproval: () => false,
  schema: z.object({
    n: z.number().int().min(1, { error: 'n must be between 1 and 50' }).max(50, { error: 'n must be between 1 and 50' }).default(10),
    page: z.number().int().min(1, { error: 'page must be 1 or more' }).max(50).default(1),
  }),
  async run(ctx, args) {
    const rows = ctx.deps.audit.last(args.n);
    const check = ctx.deps.audit.verify();
    const chain = check.ok ? `Hash chain verified over ${check.rows} rows.` : `HASH CHAIN BROKEN at row ${check.brokenAt}: ${check.reason}.`;
    const toRow = (r: (typeof rows)[number]) => [
      String(r.seq),
      r.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      cell(r.actorName ? `${r.actorName} (${r.actor})` : r.actor, 50),
      r.event,
      r.command ?? '',
      r.requestId === null ? '' : `#${r.requestId}`,
      describeDetail(r.detail),
    ];
    const page = paginate(rows, args.page, (p) => `${ctx.command} audit ${args.n} --page ${p}`, toRow);
    const table = page.rows.map(toRow);
    return {
      message: message(
        [chain, ...table.map((t) => t.join(' | '))].join('\n'),
        check.ok ? 'info' : 'critical',
        [
          { type: 'header', text: `Last ${rows.length} audit rows` },
          { type: 'table', columns: ['#', 'at', 'who', 'event', 'command', 'request', 'detail'], rows: table },
          ...(page.footer ? [{ type: 'context' as const, text: page.footer }] : []),
          { type: 'context', text: chain },
        ],
        true,
      ),
    };
  },
});

function describeDetail(detail: Record<string, unknown>): string {
  const parts = Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const s = parts.join(' ');
  return cell(s, 80);
}
