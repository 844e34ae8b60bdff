import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { ago, cell, message, paginate } from '../src/interaction/format.js';

/** `nodes [user] [--page n]`: every node with its online state and how often it flapped in the window. */
export const nodes = defineCommand({
  name: 'nodes',
  description: 'List nodes: id, name, user, online, last seen, flaps in the window',
  options: [
    { name: 'user', description: 'Only nodes of this Headscale user', type: 'string', positional: true },
    { name: 'page', description: 'Page of the list (up to 20 nodes a page)', type: 'integer' },
  ],
  access: 'read',
  needsApproval: () => false,
  schema: z.object({
    user: z
      .string()
      .regex(/^[\p{L}\p{N}._@+-]{1,64}$/u, { error: 'user must be a Headscale user name (letters, digits, . _ @ + -)' })
      .optional(),
    page: z.number().int().min(1, { error: 'page must be 1 or more' }).max(10_000).default(1),
  }),
  async run(ctx, args) {
    const { headscale, flapCounts, clock, config } = ctx.deps;
    const now = clock();
    const all = (await headscale.listNodes(args.user)).sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
    const scope = args.user ? ` of user ${args.user}` : '';
    if (all.length === 0) {
      return { message: message(`No nodes${scope}.`, 'info', [{ type: 'text', text: `No nodes${scope}.` }]) };
    }
    const online = all.filter((n) => n.online).length;
    const windowText = `${Math.round(config.FLAP_WINDOW_SECONDS / 60)}m`;
    const toRow = (n: (typeof all)[number]) => [
      n.id,
      cell(n.givenName && n.givenName !== n.name ? `${n.name} (${n.givenName})` : n.name),
      cell(n.user?.name ?? '—', 40),
      n.online ? 'yes' : 'no',
      n.online ? 'now' : ago(n.lastSeen, now),
      String(flapCounts(n.id)),
    ];
    const page = paginate(all, args.page, (p) => `${ctx.command} nodes ${args.user ? `${args.user} ` : ''}--page ${p}`, toRow);
    const rows = page.rows.map(toRow);
    const title = `${all.length} node${all.length === 1 ? '' : 's'}${scope}, ${online} online`;
    const fallback = [title, ...rows.map((r) => r.join(' | ')), ...(page.footer ? [page.footer] : [])].join('\n');
    return {
      message: message(fallback, 'info', [
        { type: 'header', text: title },
        { type: 'table', columns: ['id', 'name', 'user', 'online', 'last seen', `flaps (${windowText})`], rows },
        ...(page.footer ? [{ type: 'context' as const, text: page.footer }] : []),
      ]),
      audit: { user: args.user ?? null, count: all.length },
    };
  },
});
