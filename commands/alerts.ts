import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { ago, cell, message, paginate } from '../src/interaction/format.js';

/** `alerts [--page n]`: firing alerts, most severe first. */
export const alertsCommand = defineCommand({
  name: 'alerts',
  description: 'Firing alerts, most severe first',
  options: [{ name: 'page', description: 'Page of the list (up to 20 alerts a page)', type: 'integer' }],
  access: 'read',
  needsApproval: () => false,
  schema: z.object({ page: z.number().int().min(1, { error: 'page must be 1 or more' }).max(10_000).default(1) }),
  async run(ctx, args) {
    const now = ctx.deps.clock();
    const rank = { critical: 0, warning: 1, info: 2 } as const;
    const firing = ctx.deps
      .alerts()
      .filter((a) => a.status === 'firing')
      .sort((a, b) => rank[a.severity] - rank[b.severity] || a.startsAt.localeCompare(b.startsAt));
    if (firing.length === 0) return { message: message('No alerts firing.', 'ok', [{ type: 'text', text: 'No alerts firing.' }]) };
    const toRow = (a: (typeof firing)[number]) => [a.severity, a.kind, cell(a.subject, 40), ago(a.startsAt, now), cell(a.summary), cell(a.fingerprint, 80)];
    const page = paginate(firing, args.page, (p) => `${ctx.command} alerts --page ${p}`, toRow);
    const rows = page.rows.map(toRow);
    const title = `${firing.length} alert${firing.length === 1 ? '' : 's'} firing`;
    return {
      message: message(
        [title, ...rows.map((r) => r.join(' | ')), ...(page.footer ? [page.footer] : [])].join('\n'),
        firing.some((a) => a.severity === 'critical') ? 'critical' : 'warning',
        [
          { type: 'header', text: title },
          { type: 'table', columns: ['severity', 'kind', 'subject', 'since', 'summary', 'fingerprint'], rows },
          ...(page.footer ? [{ type: 'context' as const, text: page.footer }] : []),
          { type: 'context', text: `Silence one with: ${ctx.command} silence add <fingerprint> --for 1h` },
        ],
      ),
    };
  },
});
