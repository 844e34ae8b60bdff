import type { Block, Message } from '../messages/model.js';
import { message } from './format.js';
import { usageOf, type AnyCommand } from './types.js';

/**
 * Usage of every subcommand (or one), generated from the module definitions. Also the router's answer to any
 * malformed input, with what was wrong.
 */
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
