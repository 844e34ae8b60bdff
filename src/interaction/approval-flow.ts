import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { ButtonClick, Invocation, MessageRef, Platform, Responder } from '../adapters/chat.js';
import type { Config } from '../config/schema.js';
import { Identities } from '../policy/identities.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import { approvalCard, type Decision } from '../policy/approvals.js';
import type { Roles } from '../policy/roles.js';
import type { Approval, ApprovalRepository } from '../store/approvals.js';
import { shown } from './args.js';
import { text } from './format.js';
import { describeError, errText, undeliveredText, who, type Replies } from './replies.js';
import { verifyInterrupted } from './interrupted.js';
import { actorOf, type Actor, type AnyCommand, type CommandContext, type CommandResult } from './types.js';

export interface ApprovalFlowOptions {
  config: Config;
  approvals: ApprovalRepository;
  roles: Roles;
  replies: Replies;
  logger: Logger;
  clock: () => number;
  /** `/headscale`, as configured. */
  slash: string;
  commands: readonly AnyCommand[];
  /** The context an approved module runs in (as the requester). */
  contextFor: (actor: Actor) => CommandContext;
  editMessage?: (ref: MessageRef, message: Message) => Promise<void>;
  directMessage?: (platform: Platform, userId: string, message: Message) => Promise<void>;
}

/**
 * Actions waiting behind an approval card: posting the request, the Approve / Deny clicks (n-of-m,
 * self-approval rule, expiry, nonce, permission re-checked at click time) and running an approved action
 * exactly once as its requester. Every step lands in the audit log.
 */
export class ApprovalFlow {
  /** Responders of the commands that created pending requests, to reach the requester privately later. */
  private readonly requesters = new Map<number, Responder>();
  /** Requests interrupted by the last stop: approved but not started (failed at once), or running (verified). */
  private readonly notStarted: Approval[];
  private readonly interrupted: Approval[];
  /** Cards of interrupted requests whose edit failed (chat still down at start): retried on every sweep. */
  private readonly staleCards = new Set<number>();
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Verification of interrupted runs (start()); tests and stop() wait for it. */
  verified: Promise<void> = Promise.resolve();

  private readonly identities: Identities;

  constructor(private readonly o: ApprovalFlowOptions) {
    this.identities = new Identities(o.config.HEADWATCH_IDENTITIES);
    // An approved action is never started again after a restart; one that was running is verified in start().
    this.notStarted = o.approvals.failNotStarted(o.clock());
    this.interrupted = o.approvals.running();
    for (const a of [...this.notStarted, ...this.interrupted]) {
      o.replies.record({ actor: 'headwatch', event: 'interrupted', command: a.command, requestId: a.id, detail: { summary: a.summary, state: a.state } });
    }
  }

  /** Starts the expiry sweep (cards of timed-out requests turn EXPIRED) and verifies and redraws interrupted runs. */
  start(sweepEveryMs: number): void {
    const notStarted = this.notStarted.splice(0);
    const running = this.interrupted.splice(0);
    this.verified = (async () => {
      for (const a of notStarted) await this.fixCard(a);
      for (const a of running) await this.fixCard(await verifyInterrupted(this.o, a));
    })().catch((err: unknown) => this.o.logger.error({ err: errText(err) }, 'verifying interrupted actions failed'));
    this.sweepTimer ??= setInterval(() => void this.sweep(), sweepEveryMs);
    this.sweepTimer.unref();
  }

  private async fixCard(a: Approval): Promise<void> {
    if (await this.editCard(a)) this.staleCards.delete(a.id);
    else if (a.card) this.staleCards.add(a.id);
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Expires pending requests whose TTL passed; returns how many. Safe to call at any time. */
  async sweep(): Promise<number> {
    for (const id of [...this.staleCards]) await this.fixCard(this.o.approvals.get(id)!);
    const expired = this.o.approvals.expireDue(this.o.clock());
    for (const a of expired) {
      this.requesters.delete(a.id);
      this.o.replies.record({ actor: 'headwatch', event: 'expired', command: a.command, requestId: a.id, detail: { summary: a.summary } });
      await this.editCard(a);
    }
    return expired.length;
  }

  /** Records the request, posts its card in the channel and tells the requester privately what happens next. */
  async request(module: AnyCommand, args: unknown, summary: string, inv: Pick<Invocation, 'channelId'>, actor: Actor, respond: Responder): Promise<void> {
    const { approvals, config, replies } = this.o;
    const now = this.o.clock();
    const approval = approvals.create({
      nonce: randomBytes(16).toString('base64url'),
      command: module.name,
      args,
      summary,
      requester: { platform: actor.platform, userId: actor.userId, ...(actor.userName ? { userName: actor.userName } : {}) },
      channelId: inv.channelId,
      required: config.HEADWATCH_APPROVALS_REQUIRED,
      createdAt: now,
      expiresAt: now + config.HEADWATCH_APPROVAL_TTL,
    });
    replies.record({ ...who(actor), event: 'requested', command: module.name, requestId: approval.id, detail: { summary, args } });
    this.requesters.set(approval.id, respond);
    let ref: MessageRef;
    try {
      ref = await respond.post(approvalCard(approval, this.cardOptions()));
    } catch (err) {
      approvals.move(approval.id, 'pending', 'failed', this.o.clock(), { result: 'the approval card could not be posted' });
      this.requesters.delete(approval.id);
      replies.record({ actor: 'headwatch', event: 'failed', command: module.name, requestId: approval.id, detail: { error: `posting the card: ${errText(err)}` } });
      await replies.replace(respond, text(`Could not post the approval request to this channel (${errText(err)}). Check that headwatch may post here and try again.`, 'critical', true));
      return;
    }
    approvals.setCard(approval.id, ref);
    const n = approval.required;
    await replies.replace(
      respond,
      text(
        `Request #${approval.id} to ${summary} is waiting for ${n === 1 ? 'an approver' : `${n} approvers`}; it expires in ${Math.round(config.HEADWATCH_APPROVAL_TTL / 60_000)} minutes.`,
        'info',
        true,
      ),
    );
  }

  /** An Approve or Deny click (already parsed from its action id). */
  async onClick(click: ButtonClick, parsed: { decision: Decision; id: number; nonce: string }): Promise<void> {
    const { approvals, replies, roles, config } = this.o;
    const actor = actorOf(click.platform, click.userId, click.userName);
    const approval = approvals.get(parsed.id);
    // Local SQLite read only, then acknowledge with the card as it stands (adapters that redraw on ack
    // redraw the same card).
    try {
      if (approval) await click.respond.ack(approvalCard(approval, this.cardOptions()));
    } catch (err) {
      this.o.logger.warn({ err: errText(err) }, 'could not acknowledge a button click');
      return;
    }
    if (!approval || !sameNonce(parsed.nonce, approval.nonce)) {
      replies.record({ ...who(actor), event: 'click-rejected', requestId: approval?.id, detail: { reason: 'unknown or stale button', actionId: shown(click.actionId, 100) } });
      await replies.private(click.respond, text('This button is not valid any more (unknown or replaced request); nothing was done.', 'warning', true));
      return;
    }
    const now = this.o.clock();
    if (approval.state !== 'pending') {
      replies.record({ ...who(actor), event: 'click-rejected', command: approval.command, requestId: approval.id, detail: { reason: `already ${approval.state}` } });
      await replies.private(click.respond, text(`Request #${approval.id} is already ${approval.state}; nothing was done.`, 'info', true));
      return;
    }
    if (now >= approval.expiresAt) {
      if (approvals.move(approval.id, 'pending', 'expired', now)) {
        this.requesters.delete(approval.id);
        replies.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
      }
      await this.updateCard(click.respond, approvals.get(approval.id)!);
      await replies.private(click.respond, text(`Request #${approval.id} expired before it was approved; nothing was done. Ask for it again if it is still needed.`, 'info', true));
      return;
    }
    // Permissions are checked at click time, not when the card was posted.
    if (!roles.can(actor.principal, 'approve')) {
      replies.record({ ...who(actor), event: 'refused', command: approval.command, requestId: approval.id, detail: { reason: `not an approver (${parsed.decision})` } });
      await replies.private(click.respond, text(roles.refusal(actor.principal, `${parsed.decision} requests`, 'approve'), 'warning', true));
      return;
    }
    // HEADWATCH_IDENTITIES: the requester's other account is still the requester.
    if (parsed.decision === 'approve' && this.identities.samePerson(actor.principal, approval.requester.principal) && !config.HEADWATCH_SELF_APPROVE) {
      replies.record({ ...who(actor), event: 'click-rejected', command: approval.command, requestId: approval.id, detail: { reason: 'self-approval' } });
      await replies.private(
        click.respond,
        text('You cannot approve your own request; another approver has to (HEADWATCH_SELF_APPROVE=true allows it).', 'warning', true),
      );
      return;
    }
    await this.vote(click, actor, approval, parsed.decision, now);
  }

  private async vote(click: ButtonClick, actor: Actor, approval: Approval, decision: Decision, now: number): Promise<void> {
    const { replies } = this.o;
    const outcome = this.o.approvals.vote(approval.id, actor.principal, actor.userName, decision, now, this.identities.accountsOf(actor.principal));
    switch (outcome.kind) {
      case 'missing':
        return;
      case 'duplicate':
        await replies.private(click.respond, text(`You already voted on request #${approval.id}; another approver is needed.`, 'info', true));
        return;
      case 'not-pending':
        await replies.private(click.respond, text(`Request #${approval.id} is already ${outcome.approval.state}; nothing was done.`, 'info', true));
        return;
      case 'expired':
        this.requesters.delete(approval.id);
        replies.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'recorded':
        replies.record({ ...who(actor), event: 'approved-vote', command: approval.command, requestId: approval.id, detail: { approvals: outcome.approvals, required: approval.required } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'denied':
        this.requesters.delete(approval.id);
        replies.record({ ...who(actor), event: 'denied', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click.respond, outcome.approval);
        return;
      case 'approved':
        replies.record({ ...who(actor), event: 'approved', command: approval.command, requestId: approval.id, detail: { summary: approval.summary, votes: outcome.approval.votes.map((v) => v.principal) } });
        await this.updateCard(click.respond, outcome.approval);
        await this.runApproved(outcome.approval, click.respond);
        return;
    }
  }

  /** Claims the approved request (approved → running, exactly once) and runs it as the requester. */
  private async runApproved(approval: Approval, card: Responder): Promise<void> {
    const { approvals, replies } = this.o;
    const id = approval.id;
    const module = this.o.commands.find((c) => c.name === approval.command);
    const fail = async (why: string) => {
      approvals.move(id, 'running', 'failed', this.o.clock(), { result: why });
      replies.record({ actor: 'headwatch', event: 'failed', command: approval.command, requestId: id, detail: { error: why } });
      await this.updateCard(card, approvals.get(id)!);
    };
    if (!approvals.move(id, 'approved', 'running', this.o.clock())) return;
    try {
      await this.updateCard(card, approvals.get(id)!);
      if (!module) return await fail(`this headwatch has no ${approval.command} command any more`);
      const requester = actorOf(approval.requester.platform, approval.requester.userId, approval.requester.userName ?? undefined);
      if (module.deliversSecret && !this.requesters.has(id) && !this.o.directMessage) {
        return await fail(`${requester.userName ?? requester.principal} cannot be reached privately any more (headwatch restarted since the request); nothing was created — run the command again`);
      }
      replies.record({ actor: 'headwatch', event: 'executing', command: approval.command, requestId: id, detail: { summary: approval.summary } });
      let result: CommandResult;
      const running = approvals.get(id)!;
      const ctx: CommandContext = {
        ...this.o.contextFor(requester),
        approval: { id, approvedBy: approversOf(running) },
        // A playbook shows each step on the card as it happens.
        progress: (m) => this.showProgress(card, running, m),
      };
      try {
        result = await module.run(ctx, approval.args);
      } catch (err) {
        this.o.logger.warn({ err: errText(err), requestId: id, command: approval.command }, 'approved action failed');
        return await fail(describeError(approval.command, err));
      }
      if (result.secret) {
        const delivered = await this.deliverToRequester(approval, result.secret);
        if (!delivered) {
          const revoked = await replies.revoke(result);
          return await fail(undeliveredText(revoked));
        }
      }
      if (result.failed) {
        approvals.move(id, 'running', 'failed', this.o.clock(), { result: result.message.fallback });
        replies.record({ actor: 'headwatch', event: 'failed', command: approval.command, requestId: id, detail: { summary: approval.summary, ...result.audit } });
        await this.updateCard(card, approvals.get(id)!, result.card);
        return;
      }
      approvals.move(id, 'running', 'done', this.o.clock(), { result: result.message.fallback });
      replies.record({ actor: 'headwatch', event: 'executed', command: approval.command, requestId: id, detail: { summary: approval.summary, ...result.audit } });
      await this.updateCard(card, approvals.get(id)!, result.card);
    } finally {
      this.requesters.delete(id);
    }
  }

  private async deliverToRequester(approval: Approval, secret: Message): Promise<boolean> {
    const original = this.requesters.get(approval.id);
    if (original && (await this.o.replies.private(original, secret))) return true;
    if (this.o.directMessage) {
      try {
        await this.o.directMessage(approval.requester.platform, approval.requester.userId, secret);
        return true;
      } catch (err) {
        this.o.logger.warn({ err: errText(err), requestId: approval.id }, 'direct message to the requester failed');
      }
    }
    return false;
  }

  private cardOptions() {
    return { command: this.o.slash, now: this.o.clock() };
  }

  /** A module's own card (a playbook's steps), still saying which request it is. */
  private cardFor(approval: Approval, own?: Message): Message {
    if (!own) return approvalCard(approval, this.cardOptions());
    return { ...own, blocks: [...own.blocks, { type: 'context', text: `Request #${approval.id} · ${this.o.slash} ${approval.command}` }] };
  }

  /**
   * Progress of a running request: an edit of the card by reference (Slack's response_url takes only five
   * uses), else through the click's responder.
   */
  private async showProgress(respond: Responder, approval: Approval, own: Message): Promise<void> {
    const card = this.cardFor(approval, own);
    if (approval.card && this.o.editMessage) {
      try {
        await this.o.editMessage(approval.card, card);
        return;
      } catch (err) {
        this.o.logger.warn({ err: errText(err), requestId: approval.id }, 'could not edit the approval card with progress');
      }
    }
    await respond.replace(card);
  }

  /** Redraws a card through the click's responder, falling back to an edit by reference. */
  private async updateCard(respond: Responder, approval: Approval, own?: Message): Promise<void> {
    const card = this.cardFor(approval, own);
    try {
      await respond.replace(card);
      return;
    } catch (err) {
      this.o.logger.warn({ err: errText(err), requestId: approval.id }, 'could not update the approval card through the click');
    }
    await this.editCard(approval);
  }

  /** False when the card exists but could not be edited. */
  private async editCard(approval: Approval): Promise<boolean> {
    if (!approval.card || !this.o.editMessage) return true;
    try {
      await this.o.editMessage(approval.card, approvalCard(approval, this.cardOptions()));
      return true;
    } catch (err) {
      this.o.logger.warn({ err: errText(err), requestId: approval.id }, 'could not edit the approval card');
      return false;
    }
  }
}

function approversOf(a: Approval): string {
  return a.votes
    .filter((v) => v.decision === 'approve')
    .map((v) => (v.name ? `${v.name} (${v.principal})` : v.principal))
    .join(', ');
}

function sameNonce(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
