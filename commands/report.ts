import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { message } from '../src/interaction/format.js';

/** `report`: the daily report now (nodes, flapping, alerts, expiring keys, version, CPU peaks with a chart). */
export const reportCommand = defineCommand({
  name: 'report',
  description: 'The daily report now: nodes, flapping, alerts, expiring keys, version, CPU peaks',
  options: [],
  access: 'read',
  needsApproval: () => false,
  schema: z.object({}),
  async run(ctx) {
    const report = ctx.deps.report;
    if (!report) {
      return { message: message('The daily report is not available in this build.', 'warning', [{ type: 'text', text: 'The daily report is not available here.' }]) };
    }
    const r = await report();
    const next = ctx.deps.reportNextRun?.();
    const when = next ? `next scheduled report: ${next.toISOString()}` : 'no daily report is scheduled (HEADWATCH_REPORT_CRON=off)';
    return { message: { ...r, blocks: [...r.blocks, { type: 'context', text: `on demand by ${ctx.actor.userName ?? ctx.actor.principal} · ${when}` }] } };
  },
});
