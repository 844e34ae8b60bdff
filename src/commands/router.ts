import { randomBytes, timingSafeEqual } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { ButtonClick, InteractionHandler, Invocation, MessageRef, Platform, Responder } from '../adapters/chat.js';
import type { Alert } from '../alerts/model.js';
import type { Config } from '../config/schema.js';
import type { Metrics } from '../http/metrics.js';
import { maskSecrets, type Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import { HeadscaleError, type HeadscaleApi } from '../sources/headscale/types.js';
import type { ContainerControl } from '../sources/docker/types.js';
import type { Store } from '../store/db.js';
import { ApprovalRepository, type Approval } from '../store/approvals.js';
import { AuditLog, type AuditEntry } from '../store/audit.js';
import { Roles } from '../policy/roles.js';
import { approvalCard, parseApprovalAction } from '../policy/approvals.js';
import { bindOptions, bindTokens, editDistance, MAX_INPUT_CHARS, shown, tokenize } from './args.js';
import { text } from './format.js';
import { COMMANDS } from '../../commands/index.js';
import { helpMessage } from '../../commands/help.js';
import {
  CommandError,
  type Actor,
  type AnyCommand,
  type CommandContext,
  type CommandDeps,
  type CommandResult,
  type SilenceControl,
  type StatusExtras,
} from '../../commands/types.js';

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
  /** Subcommand modules; defaults to every module in commands/. */
  commands?: readonly AnyCommand[];
}

type Plan =
  | { kind: 'help'; message: Message; problem?: string; command?: string }
  | { kind: 'refused'; message: Message; command: string }
  | { kind: 'run'; module: AnyCommand; args: unknown };

/**
 * The platform-neutral command router: parses and validates an invocation, checks who may run it,
 * acknowledges at once, runs read-only commands, and turns actions into approval requests whose buttons it
 * handles (n-of-m, self-approval rule, expiry, nonce, run-at-most-once). Every step lands in the audit log.
 */
export class CommandRouter implements InteractionHandler {
  readonly approvals: ApprovalRepository;
  readonly audit: AuditLog;
  private readonly roles: Roles;
  private readonly clock: () => number;
  private readonly deps: CommandDeps;
  private readonly commands: readonly AnyCommand[];
  private readonly slash: string;
  /** Responders of the commands that created pending requests, to reach the requester privately later. */
  private readonly requesters = new Map<number, Responder>();
  private readonly interrupted: Approval[];
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly inflight = new Set<Promise<unknown>>();

  constructor(private readonly opts: CommandRouterOptions) {
    this.clock = opts.clock ?? Date.now;
    this.approvals = new ApprovalRepository(opts.store);
    this.audit = new AuditLog(opts.store, this.clock);
    this.roles = new Roles(opts.config);
    this.commands = opts.commands ?? COMMANDS;
    this.slash = `/${opts.config.HEADWATCH_COMMAND}`;
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
    };
    // An approved action that was running when the process stopped is never started again.
    this.interrupted = this.approvals.failInterrupted(this.clock());
    for (const a of this.interrupted) {
      this.record({ actor: 'headwatch', event: 'interrupted', command: a.command, requestId: a.id, detail: { summary: a.summary, result: a.result } });
    }
  }

  /** Starts the expiry sweep (cards of timed-out requests turn EXPIRED) and fixes cards of interrupted runs. */
  start(sweepEveryMs = 30_000): void {
    for (const a of this.interrupted.splice(0)) void this.editCard(a);
    this.sweepTimer ??= setInterval(() => void this.sweep(), sweepEveryMs);
    this.sweepTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    await Promise.allSettled([...this.inflight]);
  }

  /** Expires pending requests whose TTL passed; returns how many. Safe to call at any time. */
  async sweep(): Promise<number> {
    const expired = this.approvals.expireDue(this.clock());
    for (const a of expired) {
      this.requesters.delete(a.id);
      this.record({ actor: 'headwatch', event: 'expired', command: a.command, requestId: a.id, detail: { summary: a.summary } });
      await this.editCard(a);
    }
    return expired.length;
  }

  // ---------------------------------------------------------------- commands

  async onCommand(invocation: Invocation, respond: Responder): Promise<void> {
    const started = performance.now();
    // Parsing, validation and the permission check are pure CPU: done first so the acknowledgement already
    // has the right visibility (help, errors and refusals are private).
    const plan = this.plan(invocation);
    const isPrivate =
      plan.kind !== 'run' || plan.module.private === true || (plan.module.prepare !== undefined && plan.module.needsApproval(this.opts.config));
    try {
      await respond.ack(text('Working on it…', 'neutral', isPrivate));
    } catch (err) {
      this.opts.logger.warn({ err: errText(err), platform: invocation.platform }, 'could not acknowledge a command; the platform will show it as failed');
      return;
    }
    this.opts.metrics?.commandLatency.observe({ platform: invocation.platform }, (performance.now() - started) / 1000);
    const task = this.answer(invocation, visible(respond, isPrivate), plan);
    this.inflight.add(task);
    try {
      await task;
    } finally {
      this.inflight.delete(task);
    }
  }

  private actorOf(platform: Platform, userId: string, userName?: string): Actor {
    return { platform, userId, ...(userName ? { userName } : {}), principal: `${platform}:${userId}` };
  }

  private ctx(actor: Actor): CommandContext {
    return { deps: this.deps, actor, command: this.slash, commands: this.commands };
  }

  private plan(inv: Invocation): Plan {
    const raw = inv.rawText ?? '';
    if (raw.length > MAX_INPUT_CHARS) {
      const problem = `the input is too long (${raw.length} characters; ${MAX_INPUT_CHARS} at most)`;
      return { kind: 'help', problem, message: helpMessage(this.slash, this.commands, { problem }) };
    }
    // Adapters pass the subcommand separately and the rest in rawText (Slack) or as typed options (Discord);
    // an adapter that could not split leaves subcommand empty and the whole text in rawText.
    let sub = (inv.subcommand ?? '').trim();
    let tokens: string[] = [];
    const typed = inv.platform === 'discord' && inv.options !== undefined;
    if (!typed) {
      const t = tokenize(raw);
      if (!t.ok) return { kind: 'help', problem: t.error, message: helpMessage(this.slash, this.commands, { problem: t.error }) };
      tokens = t.tokens;
      if (sub === '' && tokens.length > 0) sub = tokens.shift()!;
    }
    if (sub === '') return { kind: 'help', message: helpMessage(this.slash, this.commands) };
    const module = this.commands.find((c) => c.name === sub.toLowerCase());
    if (!module) {
      const near = this.commands
        .map((c) => ({ c, d: editDistance(sub.toLowerCase(), c.name) }))
        .filter((x) => x.d <= 2)
        .sort((a, b) => a.d - b.d)[0];
      const problem = `there is no command "${shown(sub)}"${near ? ` — did you mean ${near.c.name}?` : ''}`;
      return { kind: 'help', problem, message: helpMessage(this.slash, this.commands, { problem }) };
    }
    const bound = typed ? bindOptions(inv.options ?? {}, module.options) : bindTokens(tokens, module.options);
    if (!bound.ok) {
      return { kind: 'help', problem: bound.error, command: module.name, message: helpMessage(this.slash, this.commands, { only: module, problem: bound.error }) };
    }
    const parsed = module.schema.safeParse(bound.values);
    if (!parsed.success) {
      const problem = parsed.error.issues.map((i) => i.message).join('; ');
      return { kind: 'help', problem, command: module.name, message: helpMessage(this.slash, this.commands, { only: module, problem }) };
    }
    const access = typeof module.access === 'function' ? module.access(parsed.data) : module.access;
    const principal = `${inv.platform}:${inv.userId}`;
    if (!this.roles.allows(principal, access)) {
      const refusal = this.roles.refusal(principal, `run ${this.slash} ${module.name}`, access);
      return { kind: 'refused', command: module.name, message: text(refusal, 'warning', true) };
    }
    return { kind: 'run', module, args: parsed.data };
  }

  private async answer(inv: Invocation, respond: Responder, plan: Plan): Promise<void> {
    const actor = this.actorOf(inv.platform, inv.userId, inv.userName);
    if (plan.kind === 'help') {
      if (plan.problem) this.opts.logger.debug({ platform: inv.platform, problem: plan.problem }, 'malformed command');
      await this.safeReplace(respond, plan.message);
      return;
    }
    if (plan.kind === 'refused') {
      this.record({ ...who(actor), event: 'refused', command: plan.command, detail: { reason: 'not permitted', input: shown(inv.rawText ?? '', 200) } });
      this.opts.logger.info({ actor: actor.principal, command: plan.command }, 'command refused: not permitted');
      await this.safeReplace(respond, plan.message);
      return;
    }
    const { module } = plan;
    const ctx = this.ctx(actor);
    try {
      if (!module.prepare) {
        const result = await module.run(ctx, plan.args);
        this.record({ ...who(actor), event: module.access === 'read' ? 'command' : 'executed', command: module.name, detail: result.audit ?? {} });
        await this.safeReplace(respond, module.private ? { ...result.message, ephemeral: true } : result.message);
        return;
      }
      const prepared = await module.prepare(ctx, plan.args);
      if (module.needsApproval(this.opts.config)) {
        await this.requestApproval(module, prepared.args, prepared.summary, inv, actor, respond);
        return;
      }
      await this.executeNow(module, prepared.args, prepared.summary, actor, respond);
    } catch (err) {
      const refusal = err instanceof CommandError;
      this.record({ ...who(actor), event: refusal ? 'refused' : 'failed', command: module.name, detail: { error: errText(err) } });
      if (!refusal) this.opts.logger.warn({ err: errText(err), command: module.name, actor: actor.principal }, 'command failed');
      await this.safeReplace(respond, text(describeError(module.name, err), refusal ? 'warning' : 'critical', true));
    }
  }

  /** An action that needs no approval (e.g. create-key with HEADWATCH_KEY_APPROVAL=false): run it now. */
  private async executeNow(module: AnyCommand, args: unknown, summary: string, actor: Actor, respond: Responder): Promise<void> {
    this.record({ ...who(actor), event: 'executing', command: module.name, detail: { summary, approval: 'not required' } });
    const result = await module.run(this.ctx(actor), args);
    if (result.secret) {
      const delivered = await this.tryPrivate(respond, result.secret);
      if (!delivered) {
        const revoked = await this.revoke(result);
        this.record({ ...who(actor), event: 'failed', command: module.name, detail: { ...result.audit, error: 'private delivery failed', revoked } });
        await this.safeReplace(respond, text(undeliveredText(revoked), 'critical'));
        return;
      }
    }
    this.record({ ...who(actor), event: 'executed', command: module.name, detail: { summary, ...result.audit } });
    await this.safeReplace(respond, result.message);
  }

  private async requestApproval(module: AnyCommand, args: unknown, summary: string, inv: Invocation, actor: Actor, respond: Responder): Promise<void> {
    const now = this.clock();
    const approval = this.approvals.create({
      nonce: randomBytes(16).toString('base64url'),
      command: module.name,
      args,
      summary,
      requester: { platform: actor.platform, userId: actor.userId, ...(actor.userName ? { userName: actor.userName } : {}) },
      channelId: inv.channelId,
      required: this.opts.config.HEADWATCH_APPROVALS_REQUIRED,
      createdAt: now,
      expiresAt: now + this.opts.config.HEADWATCH_APPROVAL_TTL,
    });
    this.record({ ...who(actor), event: 'requested', command: module.name, requestId: approval.id, detail: { summary, args } });
    this.requesters.set(approval.id, respond);
    let ref: MessageRef;
    try {
      ref = await respond.post(approvalCard(approval, this.cardOptions()));
    } catch (err) {
      this.approvals.move(approval.id, 'pending', 'failed', this.clock(), { result: 'the approval card could not be posted' });
      this.requesters.delete(approval.id);
      this.record({ actor: 'headwatch', event: 'failed', command: module.name, requestId: approval.id, detail: { error: `posting the card: ${errText(err)}` } });
      await this.safeReplace(respond, text(`Could not post the approval request to this channel (${errText(err)}). Check that headwatch may post here and try again.`, 'critical', true));
      return;
    }
    this.approvals.setCard(approval.id, ref);
    const n = approval.required;
    await this.safeReplace(
      respond,
      text(
        `Request #${approval.id} to ${summary} is waiting for ${n === 1 ? 'an approver' : `${n} approvers`}; it expires in ${Math.round(this.opts.config.HEADWATCH_APPROVAL_TTL / 60_000)} minutes.`,
        'info',
        true,
      ),
    );
  }

  // ---------------------------------------------------------------- buttons

  async onButton(click: ButtonClick): Promise<void> {
    const task = this.handleButton(click);
    this.inflight.add(task);
    try {
      await task;
    } finally {
      this.inflight.delete(task);
    }
  }

  private async handleButton(click: ButtonClick): Promise<void> {
    const actor = this.actorOf(click.platform, click.userId, click.userName);
    const parsed = parseApprovalAction(click.actionId);
    if (!parsed) {
      if (this.opts.otherButtons && (await this.opts.otherButtons(click))) return;
      this.record({ ...who(actor), event: 'click-rejected', detail: { reason: 'unknown button', actionId: shown(click.actionId, 100) } });
      await this.tryPrivate(click.respond, text('This button is not recognised by headwatch; nothing was done.', 'warning', true));
      return;
    }
    const approval = this.approvals.get(parsed.id);
    // Local SQLite read only, then acknowledge with the card as it stands (adapters that redraw on ack
    // redraw the same card).
    try {
      if (approval) await click.respond.ack(approvalCard(approval, this.cardOptions()));
    } catch (err) {
      this.opts.logger.warn({ err: errText(err) }, 'could not acknowledge a button click');
      return;
    }
    if (!approval || !sameNonce(parsed.nonce, approval.nonce)) {
      this.record({ ...who(actor), event: 'click-rejected', requestId: approval?.id, detail: { reason: 'unknown or stale button', actionId: shown(click.actionId, 100) } });
      await this.tryPrivate(click.respond, text('This button is not valid any more (unknown or replaced request); nothing was done.', 'warning', true));
      return;
    }
    const now = this.clock();
    if (approval.state !== 'pending') {
      this.record({ ...who(actor), event: 'click-rejected', command: approval.command, requestId: approval.id, detail: { reason: `already ${approval.state}` } });
      await this.tryPrivate(click.respond, text(`Request #${approval.id} is already ${approval.state}; nothing was done.`, 'info', true));
      return;
    }
    if (now >= approval.expiresAt) {
      if (this.approvals.move(approval.id, 'pending', 'expired', now)) {
        this.requesters.delete(approval.id);
        this.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
      }
      await this.updateCard(click.respond, this.approvals.get(approval.id)!);
      await this.tryPrivate(click.respond, text(`Request #${approval.id} expired before it was approved; nothing was done. Ask for it again if it is still needed.`, 'info', true));
      return;
    }
    // Permissions are checked at click time, not when the card was posted.
    if (!this.roles.can(actor.principal, 'approve')) {
      this.record({ ...who(actor), event: 'refused', command: approval.command, requestId: approval.id, detail: { reason: `not an approver (${parsed.decision})` } });
      await this.tryPrivate(click.respond, text(this.roles.refusal(actor.principal, `${parsed.decision} requests`, 'approve'), 'warning', true));
      return;
    }
    if (parsed.decision === 'approve' && actor.principal === approval.requester.principal && !this.opts.config.HEADWATCH_SELF_APPROVE) {
      this.record({ ...who(actor), event: 'click-rejected', command: approval.command, requestId: approval.id, detail: { reason: 'self-approval' } });
      await this.tryPrivate(
        click.respond,
        text('You cannot approve your own request; another approver has to (HEADWATCH_SELF_APPROVE=true allows it).', 'warning', true),
      );
      return;
    }
    const outcome = this.approvals.vote(approval.id, actor.principal, actor.userName, parsed.decision, now);
    switch (outcome.kind) {
      case 'missing':
        return;
      case 'duplicate':
        await this.tryPrivate(click.respond, text(`You already voted on request #${approval.id}; another approver is needed.`, 'info', true));
        return;
      case 'not-pending':
        await this.tryPrivate(click.respond, text(`Request #${approval.id} is already ${outcome.approval.state}; nothing was done.`, 'info', true));
        return;
      case 'expired':
        this.requesters.delete(approval.id);
        this.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'recorded':
        this.record({ ...who(actor), event: 'approved-vote', command: approval.command, requestId: approval.id, detail: { approvals: outcome.approvals, required: approval.required } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'denied':
        this.requesters.delete(approval.id);
        this.record({ ...who(actor), event: 'denied', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'approved':
        this.record({ ...who(actor), event: 'approved', command: approval.command, requestId: approval.id, detail: { summary: approval.summary, votes: outcome.approval.votes.map((v) => v.principal) } });
        await this.updateCard(click.respond, outcome.approval);
        await this.runApproved(outcome.approval, click.respond);
        return;
    }
  }

  /** Claims the approved request (approved → running, exactly once) and runs it as the requester. */
  private async runApproved(approval: Approval, card: Responder): Promise<void> {
    const id = approval.id;
    const module = this.commands.find((c) => c.name === approval.command);
    const fail = async (why: string, event: 'failed' = 'failed') => {
      this.approvals.move(id, 'running', 'failed', this.clock(), { result: why });
      this.record({ actor: 'headwatch', event, command: approval.command, requestId: id, detail: { error: why } });
      await this.updateCard(card, this.approvals.get(id)!);
    };
    if (!this.approvals.move(id, 'approved', 'running', this.clock())) return;
    try {
      await this.updateCard(card, this.approvals.get(id)!);
      if (!module) return await fail(`this headwatch has no ${approval.command} command any more`);
      const requester = this.actorOf(approval.requester.platform, approval.requester.userId, approval.requester.userName ?? undefined);
      if (module.deliversSecret && !this.requesters.has(id) && !this.opts.directMessage) {
        return await fail(`${requester.userName ?? requester.principal} cannot be reached privately any more (headwatch restarted since the request); nothing was created — run the command again`);
      }
      this.record({ actor: 'headwatch', event: 'executing', command: approval.command, requestId: id, detail: { summary: approval.summary } });
      let result: CommandResult;
      try {
        result = await module.run(this.ctx(requester), approval.args);
      } catch (err) {
        this.opts.logger.warn({ err: errText(err), requestId: id, command: approval.command }, 'approved action failed');
        return await fail(describeError(approval.command, err));
      }
      if (result.secret) {
        const delivered = await this.deliverToRequester(approval, result.secret);
        if (!delivered) {
          const revoked = await this.revoke(result);
          return await fail(undeliveredText(revoked));
        }
      }
      this.approvals.move(id, 'running', 'done', this.clock(), { result: result.message.fallback });
      this.record({ actor: 'headwatch', event: 'executed', command: approval.command, requestId: id, detail: { summary: approval.summary, ...result.audit } });
      await this.updateCard(card, this.approvals.get(id)!);
    } finally {
      this.requesters.delete(id);
    }
  }

  private async deliverToRequester(approval: Approval, secret: Message): Promise<boolean> {
    const original = this.requesters.get(approval.id);
    if (original && (await this.tryPrivate(original, secret))) return true;
    if (this.opts.directMessage) {
      try {
        await this.opts.directMessage(approval.requester.platform, approval.requester.userId, secret);
        return true;
      } catch (err) {
        this.opts.logger.warn({ err: errText(err), requestId: approval.id }, 'direct message to the requester failed');
      }
    }
    return false;
  }

  private async revoke(result: CommandResult): Promise<boolean> {
    if (!result.revokeSecret) return false;
    try {
      await result.revokeSecret();
      return true;
    } catch (err) {
      this.opts.logger.error({ err: errText(err) }, 'could not revoke an undelivered secret; expire it by hand');
      return false;
    }
  }

  // ---------------------------------------------------------------- helpers

  private cardOptions() {
    return { command: this.slash, now: this.clock() };
  }

  /** Redraws a card through the click's responder, falling back to an edit by reference. */
  private async updateCard(respond: Responder, approval: Approval): Promise<void> {
    const card = approvalCard(approval, this.cardOptions());
    try {
      await respond.replace(card);
      return;
    } catch (err) {
      this.opts.logger.warn({ err: errText(err), requestId: approval.id }, 'could not update the approval card through the click');
    }
    await this.editCard(approval);
  }

  private async editCard(approval: Approval): Promise<void> {
    if (!approval.card || !this.opts.editMessage) return;
    try {
      await this.opts.editMessage(approval.card, approvalCard(approval, this.cardOptions()));
    } catch (err) {
      this.opts.logger.warn({ err: errText(err), requestId: approval.id }, 'could not edit the approval card');
    }
  }

  private async safeReplace(respond: Responder, message: Message): Promise<void> {
    try {
      await respond.replace(message);
    } catch (err) {
      this.opts.logger.warn({ err: errText(err) }, 'could not deliver a command answer');
    }
  }

  private async tryPrivate(respond: Responder, message: Message): Promise<boolean> {
    try {
      await respond.private({ ...message, ephemeral: true });
      return true;
    } catch (err) {
      this.opts.logger.warn({ err: errText(err) }, 'could not deliver a private answer');
      return false;
    }
  }

  private record(entry: Omit<AuditEntry, 'requestId'> & { requestId?: number | undefined }): void {
    try {
      const { requestId, ...rest } = entry;
      this.audit.append({ ...rest, ...(requestId !== undefined ? { requestId } : {}) });
    } catch (err) {
      // The audit log must not silently lose rows: make it loud, but do not crash the chat handler.
      this.opts.logger.error({ err: errText(err), event: entry.event }, 'could not write the audit log');
    }
  }
}

/**
 * Every answer to a command keeps the visibility its acknowledgement had (Discord cannot change it after the
 * first reply, and Slack treats an unset flag as ephemeral), so set it explicitly on each one.
 */
function visible(respond: Responder, isPrivate: boolean): Responder {
  return {
    ack: (m) => respond.ack({ ...m, ephemeral: isPrivate }),
    replace: (m) => respond.replace({ ...m, ephemeral: isPrivate }),
    private: (m) => respond.private({ ...m, ephemeral: true }),
    post: (m) => respond.post(m),
  };
}

function who(actor: Actor): { actor: string; actorName?: string } {
  return { actor: actor.principal, ...(actor.userName ? { actorName: actor.userName } : {}) };
}

function sameNonce(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function errText(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  const flat = maskSecrets(m).replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}

function undeliveredText(revoked: boolean): string {
  return revoked
    ? 'The key was created but could not be delivered privately to the requester, so it was expired again. Run the command again.'
    : 'The key was created but could not be delivered privately to the requester, and expiring it failed: expire it with `headscale preauthkeys expire`.';
}

/** What went wrong in words an operator can act on; never a stack trace. */
function describeError(command: string, err: unknown): string {
  if (err instanceof CommandError) return err.message;
  if (err instanceof HeadscaleError) {
    const hint: Partial<Record<HeadscaleError['code'], string>> = {
      unreachable: 'Check HEADSCALE_URL and that Headscale is running.',
      timeout: 'Headscale did not answer in time (HEADSCALE_TIMEOUT_SECONDS); try again.',
      unauthorized: 'Check HEADSCALE_API_KEY (headscale apikeys create).',
    };
    return `${command} failed: ${errText(err)}${hint[err.code] ? ` ${hint[err.code]}` : ''}`;
  }
  return `${command} failed: ${errText(err)}. More detail is in the headwatch log.`;
}
