import { performance } from 'node:perf_hooks';
import type { ButtonClick, InteractionHandler, Invocation, MessageRef, Platform, Responder } from '../adapters/chat.js';
import type { Alert } from '../alerts/model.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import type { HeadscaleApi } from '../sources/headscale/types.js';
import type { ContainerControl } from '../actions/containers.js';
import type { Store } from '../store/db.js';
import { ApprovalRepository } from '../store/approvals.js';
import { AuditLog } from '../store/audit.js';
import { Roles } from '../policy/roles.js';
import { parseApprovalAction } from '../policy/approvals.js';
import { shown } from './args.js';
import { text } from './format.js';
import { ApprovalFlow } from './approval-flow.js';
import { readButton } from './buttons.js';
import { planInvocation, type Plan } from './plan.js';
import { describeError, errText, Replies, undeliveredText, visible, who } from './replies.js';
import {
  actorOf,
  CommandError,
  type Actor,
  type AnyCommand,
  type CommandContext,
  type CommandDeps,
  type RawValues,
  type SilenceControl,
  type StatusExtras,
} from './types.js';

export interface CommandRouterOptions {
  config: Config;
  store: Store;
  headscale: HeadscaleApi;
  docker: ContainerControl;
  /** The dispatcher's silences, adapted to SilenceControl; without it `silence` answers that it is unavailable. */
  silences?: SilenceControl;
  /** Firing (and recent) alerts, e.g. `() => alertRepo.firing()`. */
  alerts: () => Alert[];
  /** Flaps of a node within FLAP_WINDOW_SECONDS, from the flapping detector. */
  flapCounts?: (nodeId: string) => number;
  /** Extra status lines (chat connections, poller state…). */
  status?: () => StatusExtras | Promise<StatusExtras>;
  logger: Logger;
  /** ms epoch; injected so tests drive approval expiry. */
  clock?: () => number;
  /**
   * Edits a posted message (approval cards) outside a click, e.g. `(ref, m) => adapters[ref.platform].edit(ref, m)`.
   * Used to mark cards EXPIRED and to finish cards when a click's responder can no longer edit.
   */
  editMessage?: (ref: MessageRef, message: Message) => Promise<void>;
  /**
   * Sends a private message to a user who is not the one clicking (the requester of an approved create-key,
   * when the original command's responder has expired or headwatch restarted). Slack DM / Discord DM.
   */
  directMessage?: (platform: Platform, userId: string, message: Message) => Promise<void>;
  /**
   * Posts to a channel of a platform. With `alertChannels` naming more than one platform (Slack and Discord both
   * configured), every approval request is also shown in each alert channel and a vote on any card counts.
   */
  postMessage?: (platform: Platform, channelId: string, message: Message) => Promise<MessageRef>;
  alertChannels?: readonly { platform: Platform; channelId: string }[];
  metrics?: Metrics;
  /** The subcommand modules (commands/index.ts's COMMANDS, handed in by the composition root). */
  commands: readonly AnyCommand[];
  /** The daily report now, and when the next scheduled one is due (`report`). */
  report?: CommandDeps['report'];
  reportNextRun?: CommandDeps['reportNextRun'];
  /** Incidents (`incidents`, `reregister`); absent when HEADWATCH_INCIDENTS=false. */
  incidents?: CommandDeps['incidents'];
}

type Origin = NonNullable<CommandContext['origin']>;

/**
 * The one path of every chat interaction: parses and validates an invocation, checks who may run it
 * (src/policy), acknowledges at once, runs the command module (which calls src/actions) or turns it into an
 * approval request (ApprovalFlow). Clicks are either Approve/Deny, or a command button (buttons.ts) that is
 * run exactly like the typed command by the clicker. Nothing else handles a click. Every step is audited.
 */
export class CommandRouter implements InteractionHandler {
  readonly approvals: ApprovalRepository;
  readonly audit: AuditLog;
  private readonly roles: Roles;
  private readonly clock: () => number;
  private readonly deps: CommandDeps;
  private readonly commands: readonly AnyCommand[];
  private readonly slash: string;
  private readonly replies: Replies;
  private readonly flow: ApprovalFlow;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly opts: CommandRouterOptions) {
    this.clock = opts.clock ?? Date.now;
    this.approvals = new ApprovalRepository(opts.store);
    this.audit = new AuditLog(opts.store, this.clock);
    this.roles = new Roles(opts.config);
    this.commands = opts.commands;
    this.slash = `/${opts.config.HEADWATCH_COMMAND}`;
    this.replies = new Replies(this.audit, opts.logger);
    this.deps = {
      config: opts.config,
      headscale: opts.headscale,
      docker: opts.docker,
      ...(opts.silences ? { silences: opts.silences } : {}),
      alerts: opts.alerts,
      flapCounts: opts.flapCounts ?? (() => 0),
      ...(opts.status ? { status: opts.status } : {}),
      audit: this.audit,
      logger: opts.logger,
      clock: this.clock,
      ...(opts.report ? { report: opts.report } : {}),
      ...(opts.reportNextRun ? { reportNextRun: opts.reportNextRun } : {}),
      ...(opts.incidents ? { incidents: opts.incidents } : {}),
    };
    this.flow = new ApprovalFlow({
      config: opts.config,
      approvals: this.approvals,
      roles: this.roles,
      replies: this.replies,
      logger: opts.logger,
      clock: this.clock,
      slash: this.slash,
      commands: this.commands,
      contextFor: (actor) => this.ctx(actor),
      ...(opts.editMessage ? { editMessage: opts.editMessage } : {}),
      ...(opts.directMessage ? { directMessage: opts.directMessage } : {}),
      ...(opts.postMessage ? { postMessage: opts.postMessage } : {}),
      ...(opts.alertChannels ? { alertChannels: opts.alertChannels } : {}),
    });
  }

  /** Starts the expiry sweep (cards of timed-out requests turn EXPIRED) and fixes cards of interrupted runs. */
  start(sweepEveryMs = 30_000): void {
    this.flow.start(sweepEveryMs);
  }

  /** Settles when the runs interrupted by the last stop have been verified (after start()). */
  get interruptedVerified(): Promise<void> {
    return this.flow.verified;
  }

  async stop(): Promise<void> {
    this.flow.stop();
    await this.flow.verified;
    await Promise.allSettled([...this.inflight]);
    await this.flow.cardsSettled();
  }

  /** Settles when every approval card drawn in the background has been (tests). */
  cardsSettled(): Promise<void> {
    return this.flow.cardsSettled();
  }

  /** Expires pending requests whose TTL passed; returns how many. Safe to call at any time. */
  sweep(): Promise<number> {
    return this.flow.sweep();
  }

  // ---------------------------------------------------------------- commands

  async onCommand(invocation: Invocation, respond: Responder): Promise<void> {
    const started = performance.now();
    // Parsing, validation and the permission check are pure CPU: done first so the acknowledgement already
    // has the right visibility (help, errors and refusals are private).
    const plan = planInvocation(invocation, { commands: this.commands, slash: this.slash, roles: this.roles });
    const isPrivate =
      plan.kind !== 'run' || plan.module.private === true || (plan.module.prepare !== undefined && plan.module.needsApproval(this.opts.config));
    try {
      await respond.ack(text('Working on it…', 'neutral', isPrivate));
    } catch (err) {
      this.opts.logger.warn({ err: errText(err), platform: invocation.platform }, 'could not acknowledge a command; the platform will show it as failed');
      return;
    }
    this.opts.metrics?.commandLatency.observe({ platform: invocation.platform }, (performance.now() - started) / 1000);
    await this.track(this.answer(invocation, visible(respond, isPrivate), plan));
  }

  private ctx(actor: Actor, origin?: Origin): CommandContext {
    return { deps: this.deps, actor, command: this.slash, commands: this.commands, ...(origin ? { origin } : {}) };
  }

  private async answer(inv: Invocation, respond: Responder, plan: Plan, origin?: Origin): Promise<void> {
    const actor = actorOf(inv.platform, inv.userId, inv.userName);
    const { replies } = this;
    const via = origin ? { via: origin.kind } : {};
    if (plan.kind === 'help') {
      if (plan.problem) this.opts.logger.debug({ platform: inv.platform, problem: plan.problem }, 'malformed command');
      await replies.replace(respond, plan.message);
      return;
    }
    if (plan.kind === 'refused') {
      replies.record({ ...who(actor), event: 'refused', command: plan.command, detail: { reason: 'not permitted', input: shown(inv.rawText ?? '', 200), ...via } });
      this.opts.logger.info({ actor: actor.principal, command: plan.command }, 'command refused: not permitted');
      await replies.replace(respond, plan.message);
      return;
    }
    const { module } = plan;
    const ctx = this.ctx(actor, origin);
    try {
      if (!module.prepare) {
        const result = await module.run(ctx, plan.args);
        replies.record({ ...who(actor), event: module.access === 'read' ? 'command' : 'executed', command: module.name, detail: { ...result.audit, ...via } });
        await replies.replace(respond, module.private ? { ...result.message, ephemeral: true } : result.message);
        return;
      }
      const prepared = await module.prepare(ctx, plan.args);
      if (module.needsApproval(this.opts.config)) {
        await this.flow.request(module, prepared.args, prepared.summary, inv, actor, respond);
        return;
      }
      await this.executeNow(module, prepared.args, prepared.summary, ctx, respond);
    } catch (err) {
      const refusal = err instanceof CommandError;
      replies.record({ ...who(actor), event: refusal ? 'refused' : 'failed', command: module.name, detail: { error: errText(err), ...via } });
      if (!refusal) this.opts.logger.warn({ err: errText(err), command: module.name, actor: actor.principal }, 'command failed');
      await replies.replace(respond, text(describeError(module.name, err), refusal ? 'warning' : 'critical', true));
    }
  }

  /** An action that needs no approval (e.g. create-key with HEADWATCH_KEY_APPROVAL=false): run it now. */
  private async executeNow(module: AnyCommand, args: unknown, summary: string, ctx: CommandContext, respond: Responder): Promise<void> {
    const { replies } = this;
    const { actor } = ctx;
    replies.record({ ...who(actor), event: 'executing', command: module.name, detail: { summary, approval: 'not required' } });
    const result = await module.run(ctx, args);
    if (result.secret) {
      const delivered = await replies.private(respond, result.secret);
      if (!delivered) {
        const revoked = await replies.revoke(result);
        replies.record({ ...who(actor), event: 'failed', command: module.name, detail: { ...result.audit, error: 'private delivery failed', revoked } });
        await replies.replace(respond, text(undeliveredText(revoked), 'critical'));
        return;
      }
    }
    replies.record({ ...who(actor), event: 'executed', command: module.name, detail: { summary, ...result.audit } });
    await replies.replace(respond, result.message);
  }

  // ---------------------------------------------------------------- buttons

  async onButton(click: ButtonClick): Promise<void> {
    await this.track(this.handleButton(click));
  }

  private async handleButton(click: ButtonClick): Promise<void> {
    const approval = parseApprovalAction(click.actionId);
    if (approval) return this.flow.onClick(click, approval);
    const actor = actorOf(click.platform, click.userId, click.userName);
    const rejected = async (reason: string, answer: string) => {
      this.replies.record({ ...who(actor), event: 'click-rejected', detail: { reason, actionId: shown(click.actionId, 100) } });
      await this.replies.private(click.respond, text(answer, 'warning', true));
    };
    const pressed = readButton(click.actionId, this.commands, this.deps);
    if (pressed.kind === 'unknown') return rejected('unknown button', 'This button is not recognised by headwatch; nothing was done.');
    if (pressed.kind === 'problem') return rejected(pressed.problem, pressed.problem);
    // From here the click is the clicker typing the command: the same plan, policy, run and audit.
    const inv: Invocation = {
      platform: click.platform,
      userId: click.userId,
      ...(click.userName ? { userName: click.userName } : {}),
      channelId: click.channelId,
      subcommand: pressed.module.name,
      rawText: click.actionId,
      options: definedValues(pressed.values),
    };
    const plan = planInvocation(inv, { commands: this.commands, slash: this.slash, roles: this.roles }, { typed: true, what: pressed.module.button!.what });
    if (plan.kind === 'help') return rejected(plan.problem ?? 'malformed button', `This button did not work (${plan.problem ?? 'malformed'}); nothing was done.`);
    await this.answer(inv, privately(click.respond), plan, { kind: 'button', message: click.message, actionId: click.actionId });
  }

  /** Keeps work that answers a user in flight until it ends, so stop() can wait for it. */
  private async track(task: Promise<void>): Promise<void> {
    this.inflight.add(task);
    try {
      await task;
    } finally {
      this.inflight.delete(task);
    }
  }
}

/**
 * A command run by a button answers only the clicker: its message stays as it is (acknowledging a click
 * through `ack`/`replace` would redraw the message carrying the button). Cards still go to the channel.
 */
function privately(respond: Responder): Responder {
  return {
    ack: async () => {},
    replace: (m) => respond.private({ ...m, ephemeral: true }),
    private: (m) => respond.private({ ...m, ephemeral: true }),
    post: (m) => respond.post(m),
  };
}

function definedValues(values: RawValues): Record<string, string | number | boolean> {
  return Object.fromEntries(Object.entries(values).filter((e): e is [string, string | number | boolean] => e[1] !== undefined));
}
