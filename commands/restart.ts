import { z } from 'zod';
import { CommandError, defineCommand } from '../src/interaction/types.js';
import { restartable, restartContainer, restartedSince } from '../src/actions/containers.js';
import { message, utc } from '../src/interaction/format.js';

/** `restart <container>`: only watched containers (or HEADWATCH_RESTARTABLE); always approved first. */
export const restartCommand = defineCommand({
  name: 'restart',
  description: 'Restart a watched container (needs approval)',
  options: [{ name: 'container', description: 'Container name', type: 'string', required: true, positional: true }],
  access: 'operate',
  needsApproval: () => true,
  // Buttons (e.g. on incident messages) may ask for it: commandButton('restart', { container }, …).
  button: { what: 'restart containers' },
  schema: z.object({
    container: z.string().regex(/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/, { error: 'container must be a Docker container name' }),
  }),
  async prepare(ctx, args) {
    const name = args.container.replace(/^\//, '');
    const allowed = restartable(ctx.deps.config, ctx.deps.docker);
    if (!allowed.includes(name)) {
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
  manualCheck: (args) => `\`docker inspect -f '{{.State.StartedAt}}' ${args.container}\` (a time after the approval means it restarted)`,
});
