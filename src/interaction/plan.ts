import type { Invocation } from '../adapters/chat.js';
import type { Message } from '../messages/model.js';
import type { Roles } from '../policy/roles.js';
import { bindOptions, bindTokens, editDistance, MAX_INPUT_CHARS, shown, tokenize } from './args.js';
import { text } from './format.js';
import { helpMessage } from './help.js';
import type { AnyCommand } from './types.js';

/** What the router will do with an invocation, decided before anything is acknowledged. */
export type Plan =
  | { kind: 'help'; message: Message; problem?: string; command?: string }
  | { kind: 'refused'; message: Message; command: string }
  | { kind: 'run'; module: AnyCommand; args: unknown };

export interface PlanContext {
  commands: readonly AnyCommand[];
  /** `/headscale`, as configured. */
  slash: string;
  roles: Roles;
}

export interface PlanOptions {
  /** The options are already split and named (a button's values), as an adapter that passes `options` says. */
  typed?: boolean;
  /** What a refusal says the user may not do; default "run /headscale <command>". */
  what?: string;
}

/**
 * Parses and validates an invocation and checks who may run it (the policy step every command and every
 * command button passes). Pure CPU, so the acknowledgement can already have the right visibility.
 */
export function planInvocation(inv: Invocation, pc: PlanContext, po: PlanOptions = {}): Plan {
  const { commands, slash } = pc;
  const raw = inv.rawText ?? '';
  if (raw.length > MAX_INPUT_CHARS) {
    const problem = `the input is too long (${raw.length} characters; ${MAX_INPUT_CHARS} at most)`;
    return { kind: 'help', problem, message: helpMessage(slash, commands, { problem }) };
  }
  // Adapters pass the subcommand separately and the rest in rawText (Slack) or as typed options (Discord);
  // an adapter that could not split leaves subcommand empty and the whole text in rawText.
  let sub = (inv.subcommand ?? '').trim();
  let tokens: string[] = [];
  // Typed options are the adapter's statement that it split the input (Discord's option form, a button's values);
  // no platform check.
  const typed = po.typed === true || inv.options !== undefined;
  if (!typed) {
    const t = tokenize(raw);
    if (!t.ok) return { kind: 'help', problem: t.error, message: helpMessage(slash, commands, { problem: t.error }) };
    tokens = t.tokens;
    if (sub === '' && tokens.length > 0) sub = tokens.shift()!;
  }
  if (sub === '') return { kind: 'help', message: helpMessage(slash, commands) };
  const module = commands.find((c) => c.name === sub.toLowerCase());
  if (!module) {
    const near = commands
      .map((c) => ({ c, d: editDistance(sub.toLowerCase(), c.name) }))
      .filter((x) => x.d <= 2)
      .sort((a, b) => a.d - b.d)[0];
    const problem = `there is no command "${shown(sub)}"${near ? ` — did you mean ${near.c.name}?` : ''}`;
    return { kind: 'help', problem, message: helpMessage(slash, commands, { problem }) };
  }
  const bound = typed ? bindOptions(inv.options ?? {}, module.options) : bindTokens(tokens, module.options);
  if (!bound.ok) {
    return { kind: 'help', problem: bound.error, command: module.name, message: helpMessage(slash, commands, { only: module, problem: bound.error }) };
  }
  const parsed = module.schema.safeParse(bound.values);
  if (!parsed.success) {
    const problem = parsed.error.issues.map((i) => i.message).join('; ');
    return { kind: 'help', problem, command: module.name, message: helpMessage(slash, commands, { only: module, problem }) };
  }
  const access = typeof module.access === 'function' ? module.access(parsed.data) : module.access;
  const principal = `${inv.platform}:${inv.userId}`;
  if (!pc.roles.allows(principal, access)) {
    const refusal = pc.roles.refusal(principal, po.what ?? `run ${slash} ${module.name}`, access);
    return { kind: 'refused', command: module.name, message: text(refusal, 'warning', true) };
  }
  return { kind: 'run', module, args: parsed.data };
}
