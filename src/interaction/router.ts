import { performance } from 'node:perf_hooks';
import type { ButtonClick, InteractionHandler, Invocation, MessageRef, Platform, Responder } from '../adapters/chat.js';
import type { Alert } from '../alerts/model.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../http/metrics.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import type { HeadscaleApi } from '../sources/headscale/types.js';
import type { ContainerControl } from '../sources/docker/types.js';
import type { Store } from '../store/db.js';
import { ApprovalRepository } from '../store/approvals.js';
import { AuditLog } from '../store/audit.js';
import { Roles } from '../policy/roles.js';
import { parseApprovalAction } from '../policy/approvals.js';
import { shown } from './args.js';
import { text } from './format.js';
import { ApprovalFlow } from './approval-flow.js';
import { planInvocation, type Plan } from './plan.js';
import { describeError, errText, Replies, undeliveredText, visible, who } from './replies.js';
import {
  actorOf,
  CommandError,
  type Actor,
  type AnyCommand,
  type CommandContext,
  type CommandDeps,
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
  metrics?: Metrics;
  /**
   * Buttons that are not approval buttons (e.g. the dispatcher's "Silence 1h": `(c) => dispatcher.handleButton(c)`).
   * Returns true when it handled the click.
   */
  otherButtons?: (click: ButtonClick) => Promise<boolean>;
  /** The subcommand modules (commands/index.ts's COMMANDS, handed in by the composition root). */
  commands: readonly AnyCommand[];
  /** The daily report now, and when the next scheduled one is due (`report`). */
  report?: CommandDeps['report'];
  reportNextRun?: CommandDeps['reportNextRun'];
}

/**
 * The platform-neutral command router: parses and validates an invocation, checks who may run it,
 * acknowledges at once, runs read-only commands, and turns actions into approval requests (see ApprovalFlow)
 * whose buttons it routes. Every step lands in the audit log.
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

  private ctx(actor: Actor): CommandContext {
    return { deps: this.deps, actor, command: this.slash, commands: this.commands };
  }

  private async answer(inv: Invocation, respond: Responder, plan: Plan): Promise<void> {
    const actor = actorOf(inv.platform, inv.userId, inv.userName);
    const { replies } = this;
    if (plan.kind === 'help') {
      if (plan.problem) this.opts.logger.debug({ platform: inv.platform, problem: plan.problem }, 'malformed command');
      await replies.replace(respond, plan.message);
      return;
    }
    if (plan.kind === 'refused') {
      replies.record({ ...who(actor), event: 'refused', command: plan.command, detail: { reason: 'not permitted', input: shown(inv.rawText ?? '', 200) } });
      this.opts.logger.info({ actor: actor.principal, command: plan.command }, 'command refused: not permitted');
      await replies.replace(respond, plan.message);
      return;
    }
    const { module } = plan;
    const ctx = this.ctx(actor);
    try {
      if (!module.prepare) {
        const result = await module.run(ctx, plan.args);
        replies.record({ ...who(actor), event: module.access === 'read' ? 'command' : 'executed', command: module.name, detail: result.audit ?? {} });
        await replies.replace(respond, module.private ? { ...result.message, ephemeral: true } : result.message);
        return;
      }
      const prepared = await module.prepare(ctx, plan.args);
      if (module.needsApproval(this.opts.config)) {
        await this.flow.request(module, prepared.args, prepared.summary, inv, actor, respond);
        return;
      }
      await this.executeNow(module, prepared.args, prepared.summary, actor, respond);
    } catch (err) {
      const refusal = err instanceof CommandError;
      replies.record({ ...who(actor), event: refusal ? 'refused' : 'failed', command: module.name, detail: { error: errText(err) } });
      if (!refusal) this.opts.logger.warn({ err: errText(err), command: module.name, actor: actor.principal }, 'command failed');
      await replies.replace(respond, text(describeError(module.name, err), refusal ? 'warning' : 'critical', true));
    }
  }

  /** An action that needs no approval (e.g. create-key with HEADWATCH_KEY_APPROVAL=false): run it now. */
  private async executeNow(module: AnyCommand, args: unknown, summary: string, actor: Actor, respond: Responder): Promise<void> {
    const { replies } = this;
    replies.record({ ...who(actor), event: 'executing', command: module.name, detail: { summary, approval: 'not required' } });
    const result = await module.run(this.ctx(actor), args);
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
    if (this.opts.otherButtons && (await this.opts.otherButtons(click))) return;
    const actor = actorOf(click.platform, click.userId, click.userName);
    this.replies.record({ ...who(actor), event: 'click-rejected', detail: { reason: 'unknown button', actionId: shown(click.actionId, 100) } });
    await this.replies.private(click.respond, text('This button is not recognised by headwatch; nothing was done.', 'warning', true));
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
