import { z } from 'zod';
import { defineCommand, usageOf, type AnyCommand } from './types.js';
import { message } from '../src/commands/format.js';
import type { Block, Message } from '../src/messages/model.js';

/** Usage of every subcommand (or one), also the answer to any malformed input, with what was wrong. */
export function helpMessage(command: string, commands: readonly AnyCommand[], opts: { only?: AnyCommand; problem?: string } = {}): Message {
  const list = opts.only ? [opts.only] : commands;
  const lines = list.map((m) => `${command} ${usageOf(m)} — ${m.description}`);
  const blocks: Block[] = [];
  if (opts.problem) blocks.push({ type: 'text', text: `That did not work: ${opts.problem}` });
  blocks.push({ type: 'header', text: opts.only ? `Usage of ${command} ${opts.only.name}` : `${command} commands` });
  blocks.push({ type: 'code', text: lines.join('\n') });
  if (opts.only) {
    const flags = opts.only.options.map((o: AnyCommand['options'][number]) => `${o.positional ? o.name : `--${o.name}`}: ${o.description}`);
    if (flags.length) blocks.push({ type: 'text', text: flags.join('\n') });
    if (opts.only.examples?.length) blocks.push({ type: 'context', text: `Examples: ${opts.only.examples.join(' · ')}` });
  } else {
    blocks.push({ type: 'context', text: `Details: ${command} help <command>. On Discord, pick the same options in the command form instead of typing --flags.` });
  }
  const fallback = [opts.problem ? `That did not work: ${opts.problem}` : undefined, ...lines].filter(Boolean).join('\n');
  return message(fallback, opts.problem ? 'warning' : 'info', blocks, true);
}

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
