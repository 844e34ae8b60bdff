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
import { ApprovalCards, type CardChannel, type ClickedCard } from './approval-cards.js';
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
  /** Posts to a platform's channel: with Slack and Discord both configured, each alert channel shows every request. */
  postMessage?: (platform: Platform, channelId: string, message: Message) => Promise<MessageRef>;
  alertChannels?: readonly CardChannel[];
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
  /** Every card of every request, on both platforms, kept showing the same state. */
  private readonly cards: ApprovalCards;
  private sweepTimer: NodeJS.Timeout | undefined;
  /** Verification of interrupted runs (start()); tests and stop() wait for it. */
  verified: Promise<void> = Promise.resolve();

  private readonly identities: Identities;

  constructor(private readonly o: ApprovalFlowOptions) {
    this.identities = new Identities(o.config.HEADWATCH_IDENTITIES);
    this.cards = new ApprovalCards({
      approvals: o.approvals,
      logger: o.logger,
      clock: o.clock,
      render: (a, own) => this.cardFor(a, own),
      ...(o.editMessage ? { editMessage: o.editMessage } : {}),
      ...(o.postMessage ? { postMessage: o.postMessage } : {}),
      ...(o.alertChannels ? { alertChannels: o.alertChannels } : {}),
    });
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
      for (const a of notStarted) await this.cards.changed(a.id);
      for (const a of running) await this.cards.changed((await verifyInterrupted(this.o, a)).id);
    })().catch((err: unknown) => this.o.logger.error({ err: errText(err) }, 'verifying interrupted actions failed'));
    this.sweepTimer ??= setInterval(() => void this.sweep(), sweepEveryMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.cards.stop();
  }

  /** Settles when no card is being drawn in the background. */
  cardsSettled(): Promise<void> {
    return this.cards.settled();
  }

  /** Expires pending requests whose TTL passed; returns how many. Safe to call at any time. */
  async sweep(): Promise<number> {
    const expired = this.o.approvals.expireDue(this.o.clock());
    for (const a of expired) {
      this.requesters.delete(a.id);
      this.o.replies.record({ actor: 'headwatch', event: 'expired', command: a.command, requestId: a.id, detail: { summary: a.summary } });
    }
    // Expired cards, and cards a platform outage or a restart left behind their request.
    await this.cards.catchUp();
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
    const copies = this.cards.added(approval, ref);
    const n = approval.required;
    const elsewhere = [...new Set(copies.map((c) => PLATFORM_NAME[c.platform]))];
    await replies.replace(
      respond,
      text(
        `Request #${approval.id} to ${summary} is waiting for ${n === 1 ? 'an approver' : `${n} approvers`}; it expires in ${Math.round(config.HEADWATCH_APPROVAL_TTL / 60_000)} minutes.${
          elsewhere.length > 0 ? ` It is also shown in the alert channel${elsewhere.length > 1 ? 's' : ''} on ${elsewhere.join(' and ')}, where a vote counts the same.` : ''
        }`,
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
      await replies.private(click.respond, text(alreadyDecided(approval), 'info', true));
      return;
    }
    if (now >= approval.expiresAt) {
      if (approvals.move(approval.id, 'pending', 'expired', now)) {
        this.requesters.delete(approval.id);
        replies.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
      }
      await this.updateCard(click, approvals.get(approval.id)!);
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
        await replies.private(click.respond, text(alreadyDecided(outcome.approval), 'info', true));
        return;
      case 'expired':
        this.requesters.delete(approval.id);
        replies.record({ actor: 'headwatch', event: 'expired', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click, outcome.approval);
        return;
      case 'recorded':
        replies.record({ ...who(actor), event: 'approved-vote', command: approval.command, requestId: approval.id, detail: { approvals: outcome.approvals, required: approval.required } });
        await this.updateCard(click, outcome.approval);
        return;
      case 'denied':
        this.requesters.delete(approval.id);
        replies.record({ ...who(actor), event: 'denied', command: approval.command, requestId: approval.id, detail: { summary: approval.summary } });
        await this.updateCard(click, outcome.approval);
        return;
      case 'approved':
        replies.record({ ...who(actor), event: 'approved', command: approval.command, requestId: approval.id, detail: { summary: approval.summary, votes: outcome.approval.votes.map((v) => v.principal) } });
        await this.updateCard(click, outcome.approval);
        await this.runApproved(outcome.approval, click);
        return;
    }
  }

  /** Claims the approved request (approved → running, exactly once) and runs it as the requester. */
  private async runApproved(approval: Approval, card: ClickedCard): Promise<void> {
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
        // Not awaited: a platform that is down must not hold the playbook up (its card catches up later).
        progress: async (m) => void this.cards.changed(id, { own: m, force: true }),
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

  /** Redraws every card of the request: the clicked one through the click (awaited), the others in the background. */
  private async updateCard(click: ClickedCard, approval: Approval, own?: Message): Promise<void> {
    await this.cards.redraw(approval.id, click, own);
  }
}

const PLATFORM_NAME: Record<Platform, string> = { slack: 'Slack', discord: 'Discord' };

/** What a click on a decided request is told: the state, and who decided it (the click may come from the other platform). */
function alreadyDecided(a: Approval): string {
  const approvers = approversOf(a);
  const denier = a.votes.find((v) => v.decision === 'deny');
  const by =
    a.state === 'denied' && denier
      ? ` (denied by ${denier.name ? `${denier.name} (${denier.principal})` : denier.principal})`
      : approvers && a.state !== 'expired'
        ? ` (approved by ${approvers})`
        : '';
  return `Request #${a.id} is already ${a.state}${by}; nothing was done.`;
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
