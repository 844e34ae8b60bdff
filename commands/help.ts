import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { helpMessage } from '../src/interaction/help.js';

/** `help [command]`: usage of every subcommand, or the details of one. */
export const helpCommand = defineCommand({
  name: 'help',
  description: 'Show how to use these commands',
  options: [{ name: 'command', description: 'Show the details of one command', type: 'string', positional: true }],
  access: 'read',
  private: true,
  needsApproval: () => false,
  schema: z.object({ command: z.string().max(64, { error: 'command name is too long' }).optional() }),
  async run(ctx, args) {
    if (args.command === undefined) return { message: helpMessage(ctx.command, ctx.commands) };
    const only = ctx.commands.find((c) => c.name === args.command!.toLowerCase());
    if (!only) return { message: helpMessage(ctx.command, ctx.commands, { problem: `there is no command "${args.command}"` }) };
    return { message: helpMessage(ctx.command, ctx.commands, { only }) };
  },
});
