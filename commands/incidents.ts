import { z } from 'zod';
import { ago, cell, message } from '../src/interaction/format.js';
import { defineCommand } from '../src/interaction/types.js';
import { incidentSubject } from '../src/incidents/message.js';

const RECENT_MS = 24 * 3_600_000;

/** `incidents [--all]`: open incidents, then those of the last 24 h, each with its top cause. */
export const incidentsCommand = defineCommand({
  name: 'incidents',
  description: 'Open and recent incidents with their likely cause',
  options: [{ name: 'limit', description: 'How many to list (default 15)', type: 'integer' }],
  access: 'read',
  needsApproval: () => false,
  schema: z.object({ limit: z.coerce.number().int().min(1, { error: 'limit must be 1 or more' }).max(50, { error: 'limit must be at most 50' }).default(15) }),
  async run(ctx, args) {
    const { incidents, clock } = ctx.deps;
    if (!incidents) return { message: message('Incidents are off (HEADWATCH_INCIDENTS=false).', 'neutral', [{ type: 'text', text: 'Incidents are off (HEADWATCH_INCIDENTS=false): alerts are posted one by one.' }]) };
    const now = clock();
    const list = incidents.list(args.limit, RECENT_MS, now);
    if (list.length === 0) return { message: message('No open or recent incidents.', 'ok', [{ type: 'text', text: 'No open incidents, and none in the last 24 h.' }]) };
    const open = list.filter((x) => x.incident.status === 'open').length;
    const rows = list.map(({ incident: i, top, firing, total }) => [
      `#${i.id}`,
      i.status,
      cell(incidentSubject(i), 44),
      top?.name ?? 'no cause has evidence',
      `${firing}/${total}`,
      ago(new Date(i.openedAt).toISOString(), now),
      i.status === 'resolved' && i.resolvedAt ? `resolved ${ago(new Date(i.resolvedAt).toISOString(), now)}` : i.reregister ? `re-registered by ${i.reregister.by}` : '',
    ]);
    const title = `${open} open incident${open === 1 ? '' : 's'}${list.length > open ? `, ${list.length - open} recent` : ''}`;
    const text = [title, ...rows.map((r) => r.join(' | '))].join('\n');
    return {
      message: message(text, open > 0 ? 'warning' : 'ok', [
        { type: 'header', text: title },
        { type: 'table', columns: ['incident', 'status', 'subject', 'top cause', 'firing', 'opened', ''], rows },
        { type: 'context', text: `Each open incident has its message in the alert channel, with Re-register, Restart and Silence buttons. ${ctx.command} reregister <node|container> does the same from here.` },
      ]),
    };
  },
});
