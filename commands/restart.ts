import { z } from 'zod';
import { CommandError, defineCommand } from '../src/interaction/types.js';
import { permits, resolveCommandTarget, restartable, restartContainer, restartedSince } from '../src/actions/containers.js';
import { CONTAINER_REF, nameOnHost } from '../src/sources/docker/names.js';
import { message, utc } from '../src/interaction/format.js';

/** `restart <container>`: only watched containers (or HEADWATCH_RESTARTABLE); always approved first. */
export const restartCommand = defineCommand({
  name: 'restart',
  description: 'Restart a watched container (needs approval)',
  options: [{ name: 'container', description: 'Container name (host/container with several Docker hosts)', type: 'string', required: true, positional: true }],
  access: 'operate',
  needsApproval: () => true,
  // Buttons (e.g. on incident messages) may ask for it: commandButton('restart', { container }, …).
  button: { what: 'restart containers' },
  schema: z.object({
    container: z.string().regex(CONTAINER_REF, { error: 'container must be a Docker container name (or host/container)' }),
  }),
  async prepare(ctx, args) {
    const target = resolveCommandTarget(ctx.deps.docker, args.container);
    if ('error' in target) throw new CommandError(target.error);
    const name = target.name;
    const allowed = restartable(ctx.deps.config, ctx.deps.docker);
    if (!permits(allowed, name, ctx.deps.docker)) {
      const list = allowed.length ? allowed.join(', ') : 'none (no containers are watched)';
      throw new CommandError(
        `${name} cannot be restarted from chat. Restartable containers: ${list}. Add it to HEADWATCH_RESTARTABLE to allow it.`,
      );
    }
    return { args: { container: name }, summary: `restart container ${name}` };
  },
  async run(ctx, args) {
    const { startedAt } = await restartContainer(ctx.deps.docker, args.container);
    const when = Number.isNaN(Date.parse(startedAt)) ? startedAt : utc(Date.parse(startedAt));
    return {
      message: message(`Restarted ${args.container}; running again since ${when}.`, 'ok', [
        { type: 'text', text: `Restarted \`${args.container}\`; running again since ${when}.` },
      ]),
      audit: { container: args.container, startedAt },
    };
  },
  async verifyInterrupted(ctx, args, claimedAt) {
    const seen = await restartedSince(ctx.deps.docker, args.container, claimedAt);
    if (!seen) return { outcome: 'unknown', reason: `Docker has no start time for ${args.container}` };
    return seen.restarted
      ? { outcome: 'completed', detail: `${args.container} started again at ${utc(seen.startedAt)}, after the restart began at ${utc(claimedAt)}` }
      : { outcome: 'not-run', detail: `${args.container} has been running since ${utc(seen.startedAt)}, before the restart began at ${utc(claimedAt)}` };
  },
  manualCheck: (args) => `\`docker inspect -f '{{.State.StartedAt}}' ${nameOnHost({ name: args.container })}\`${args.container.includes('/') ? ` on host ${args.container.split('/')[0]}` : ''} (a time after the approval means it restarted)`,
});
