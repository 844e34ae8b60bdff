import type { z } from 'zod';
import type { Alert } from '../alerts/model.js';
import type { MessageRef, Platform } from '../adapters/chat.js';
import type { SilenceControl } from '../actions/silences.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import type { Access } from '../policy/roles.js';
import type { HeadscaleApi } from '../sources/headscale/types.js';
import type { ContainerControl } from '../actions/containers.js';
import type { AuditLog } from '../store/audit.js';
import type { IncidentService } from '../incidents/service.js';

export type { Access } from '../policy/roles.js';
export type { SilenceControl } from '../actions/silences.js';

/**
 * The contract of a `/headscale` subcommand module (one per file in commands/), written once for Slack and
 * Discord. The Slack manifest, the Discord command registration, the help text and the argument parser are all
 * generated from these definitions; the router runs them.
 */
export type OptionType = 'string' | 'integer' | 'boolean';

export interface OptionDef {
  /** Lower-case, Discord-valid (1–32 of a-z 0-9 - _). Slack flags are `--<name>`. */
  name: string;
  /** Shown in help and in Discord's option picker (≤ 100 characters). */
  description: string;
  type: OptionType;
  required?: boolean;
  /** Slack: taken by position (`create-key alice`) instead of as `--user alice`. */
  positional?: boolean;
  /** Allowed values; Discord shows them as a picker. */
  choices?: string[];
}

export type Actor = {
  platform: Platform;
  userId: string;
  userName?: string;
  /** `<platform>:<userId>`, the form used in HEADWATCH_OPERATORS and the audit log. */
  principal: string;
};

export function actorOf(platform: Platform, userId: string, userName?: string): Actor {
  return { platform, userId, ...(userName ? { userName } : {}), principal: `${platform}:${userId}` };
}

/** Extra lines for `status` the composition root knows and commands do not (chat connections, poller…). */
export interface StatusExtras {
  lines?: { label: string; value: string }[];
}

export interface CommandDeps {
  config: Config;
  headscale: HeadscaleApi;
  docker: ContainerControl;
  silences?: SilenceControl;
  alerts: () => Alert[];
  flapCounts: (nodeId: string) => number;
  status?: () => StatusExtras | Promise<StatusExtras>;
  audit: AuditLog;
  logger: Logger;
  clock: () => number;
  /** The daily report as of now (`report`); its chart rides in `images`. */
  report?: () => Promise<Message>;
  /** When the next scheduled report is due (null when HEADWATCH_REPORT_CRON=off). */
  reportNextRun?: () => Date | null;
  /** Incidents (correlation, diagnosis, the Re-register playbook); absent when HEADWATCH_INCIDENTS=false. */
  incidents?: IncidentService;
}

export interface CommandContext {
  deps: CommandDeps;
  /** Who asked (for an approved action: the requester, not the approver). */
  actor: Actor;
  /** The full slash command name as configured, e.g. `/headscale`. */
  command: string;
  /** Every subcommand (for help). */
  commands: readonly AnyCommand[];
  /** Set for an approved request while it runs: the request and who approved it. */
  approval?: { id: number; approvedBy: string };
  /** Set for an approved request while it runs: redraws its card (a playbook showing each step as it happens). */
  progress?: (card: Message) => Promise<void>;
  /** Set when a button ran the command (rather than a typed command): the message that carried it. */
  origin?: { kind: 'button'; message: MessageRef; actionId: string };
}

export interface CommandResult {
  /** What the channel (or the invoking user, for private commands) sees. */
  message: Message;
  /** Shown only to the requester (pre-auth keys). Never logged, stored or posted to the channel. */
  secret?: Message;
  /** Called when `secret` could not be delivered, so a secret nobody has seen does not stay usable. */
  revokeSecret?: () => Promise<void>;
  /** Secret-free facts for the audit row. */
  audit?: Record<string, unknown>;
  /** The card to leave on an approved request instead of the generic DONE/FAILED card (a playbook's steps). */
  card?: Message;
  /** The action ran but did not achieve what was asked: the request ends as FAILED (with `card`). */
  failed?: boolean;
}

export interface Prepared<A> {
  /** Arguments after resolution (e.g. node name → id); stored with an approval request, so no secrets. */
  args: A;
  /** The exact action in words, shown on the approval card and in the audit log. */
  summary: string;
}

export type RawValues = Record<string, string | number | boolean | undefined>;

/** What looking at Headscale/Docker showed about an action headwatch stopped in the middle of. */
export type Verification =
  /** It took effect. `undone`: it was then reverted (a key nobody received, expired again). */
  | { outcome: 'completed'; detail: string; undone?: boolean }
  | { outcome: 'not-run'; detail: string }
  | { outcome: 'unknown'; reason: string };

/**
 * Declares that a button may run this command. The button's action id is `<command name>:<payload>` (see
 * src/interaction/buttons.ts); a click becomes an invocation of the command with the option values the payload
 * names, and then takes the same path as the typed command: validation, roles, approval, action, audit.
 */
export interface ButtonSpec {
  /** What a refused clicker is told they may not do, e.g. "silence alerts". */
  what: string;
  /**
   * Reads a payload in this command's own format (for ids already posted in channels). Payloads written by
   * commandButton() (`?name=value&…`) are read without it. A problem is told to the clicker as is.
   */
  decode?: (payload: string, deps: CommandDeps) => { values: RawValues } | { problem: string };
}

export interface CommandModule<A = unknown> {
  name: string;
  /** One line (≤ 100 characters: Discord's limit). */
  description: string;
  options: OptionDef[];
  access: Access | ((args: A) => Access);
  /** True when the request must be approved before it runs. */
  needsApproval: (config: Config) => boolean;
  /** The answer goes only to the invoking user. */
  private?: boolean;
  /**
   * The result carries a secret for the requester: an approved request is only run while the requester can
   * still be reached privately, and the secret is revoked when delivery fails.
   */
  deliversSecret?: boolean;
  /** Validates the bound option values (zod), with messages naming the option. */
  schema: z.ZodType<A>;
  /** Resolves and describes an action before it is requested (may call Headscale/Docker). */
  prepare?: (ctx: CommandContext, args: A) => Promise<Prepared<A>>;
  run: (ctx: CommandContext, args: A) => Promise<CommandResult>;
  /**
   * After headwatch stopped while this approved action was running (claimed at `claimedAt`): finds out whether it
   * took effect. Read-only apart from undoing what nobody received; the action is never run again.
   */
  verifyInterrupted?: (ctx: CommandContext, args: A, claimedAt: number) => Promise<Verification>;
  /** The exact check an operator makes by hand when an interrupted run cannot be verified. */
  manualCheck?: (args: A) => string;
  /** Extra help lines (examples). */
  examples?: string[];
  /** Set when buttons may run this command (see ButtonSpec). */
  button?: ButtonSpec;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a registry of modules with different argument types
export type AnyCommand = CommandModule<any>;

export function defineCommand<A>(module: CommandModule<A>): CommandModule<A> {
  return module;
}

/** The usage line generated from the options, e.g. `create-key <user> [--reusable] [--expiration <string>]`. */
export function usageOf(module: Pick<CommandModule, 'name' | 'options'>): string {
  const parts = [module.name];
  for (const o of module.options) {
    const value = o.choices ? o.choices.join('|') : o.name;
    if (o.positional) parts.push(o.required ? `<${value}>` : `[${value}]`);
    else if (o.type === 'boolean') parts.push(`[--${o.name}]`);
    else parts.push(o.required ? `--${o.name} <${o.type === 'integer' ? 'n' : 'value'}>` : `[--${o.name} <${o.type === 'integer' ? 'n' : 'value'}>]`);
  }
  return parts.join(' ');
}

/** A problem with the request itself (not allowed, not found…): shown to the user as is, not as a failure. */
export class CommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandError';
  }
}
