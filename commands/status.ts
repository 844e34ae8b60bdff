import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { message } from '../src/interaction/format.js';
import type { Block } from '../src/messages/model.js';

/** `status`: Headscale version and reachability, watched containers with CPU now, firing alerts. */
export const statusCommand = defineCommand({
  name: 'status',
  description: 'Headscale version and reachability, watched containers and CPU, firing alerts',
  options: [],
  access: 'read',
  needsApproval: () => false,
  schema: z.object({}),
  async run(ctx) {
    const { headscale, docker, alerts, status } = ctx.deps;
    const [info, health, extras] = await Promise.allSettled([headscale.serverInfo(), headscale.health(), Promise.resolve(status?.())]);
    const reachable = health.status === 'fulfilled' && health.value.ok;
    const hsFields = [
      { label: 'Headscale', value: info.status === 'fulfilled' ? `${info.value.version} (via ${info.value.detectedBy})` : 'version unknown' },
      {
        label: 'Reachable',
        value:
          health.status === 'fulfilled'
            ? `${health.value.ok ? 'yes' : 'NO — health check failed'}${health.value.databaseConnectivity === false ? ' (database unreachable)' : ''}`
            : `NO — ${health.reason instanceof Error ? health.reason.message : String(health.reason)}`,
      },
    ];
    // A release outside what headwatch knows is still used (best effort); say so where people look.
    if (info.status === 'fulfilled' && info.value.note) hsFields.push({ label: 'API', value: info.value.note });
    if (extras.status === 'fulfilled' && extras.value?.lines) hsFields.push(...extras.value.lines);

    const containers = docker.watched();
    const firing = alerts().filter((a) => a.status === 'firing');
    const blocks: Block[] = [{ type: 'header', text: 'headwatch status' }, { type: 'fields', fields: hsFields }];
    if (containers.length > 0) {
      blocks.push({
        type: 'table',
        columns: ['container', 'role', 'running', 'cpu now'],
        rows: containers.map((c) => [c.name, c.role, c.running ? 'yes' : 'no', c.cpuPercent === undefined ? '—' : `${c.cpuPercent.toFixed(1)} %`]),
      });
    } else {
      blocks.push({ type: 'text', text: 'No containers are watched.' });
    }
    const shownAlerts = firing.slice(0, 10);
    blocks.push({
      type: 'text',
      text:
        firing.length === 0
          ? 'No alerts firing.'
          : `${firing.length} alert${firing.length === 1 ? '' : 's'} firing:\n${shownAlerts.map((a) => `• [${a.severity}] ${a.summary}`).join('\n')}${
              firing.length > shownAlerts.length ? `\n…and ${firing.length - shownAlerts.length} more: ${ctx.command} alerts` : ''
            }`,
    });
    const tone = !reachable || firing.some((a) => a.severity === 'critical') ? 'critical' : firing.length > 0 ? 'warning' : 'ok';
    const fallback = `Headscale ${hsFields[0]!.value}, reachable: ${hsFields[1]!.value}; ${containers.length} containers watched; ${firing.length} alerts firing`;
    return { message: message(fallback, tone, blocks) };
  },
});
