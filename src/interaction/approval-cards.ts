import type { MessageRef, Platform, Responder } from '../adapters/chat.js';
import type { Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import type { Approval, ApprovalCard, ApprovalRepository } from '../store/approvals.js';
import { errText } from './replies.js';

/** A platform's alert channel (SLACK_CHANNEL, DISCORD_CHANNEL_ID). */
export interface CardChannel {
  platform: Platform;
  channelId: string;
}

/** The click a redraw answers: its card is redrawn through the click's responder, the others by reference. */
export interface ClickedCard {
  message: MessageRef;
  respond: Responder;
}

export interface ApprovalCardsOptions {
  approvals: ApprovalRepository;
  logger: Logger;
  clock: () => number;
  /** The card for a request as it stands; `own` is a module's own card (a playbook's steps). */
  render: (a: Approval, own?: Message) => Message;
  editMessage?: (ref: MessageRef, message: Message) => Promise<void>;
  /** Posts a message to a channel of a platform (the copies of a card in the alert channels). */
  postMessage?: (platform: Platform, channelId: string, message: Message) => Promise<MessageRef>;
  /** Each configured platform's alert channel; with two platforms a request is shown on both. */
  alertChannels?: readonly CardChannel[];
  /** First retry of a card whose platform failed; doubles on each failure, up to 30 s. */
  retryMs?: number;
}

const RETRY_MAX_MS = 30_000;
/** A card still behind a day after its request last changed is given up (as the outbox gives up a delivery). */
const GIVE_UP_MS = 86_400_000;

/**
 * Every card of an approval request shows the same state. The cards are stored with the request
 * (approval_cards: where it was asked, plus each platform's alert channel when Slack and Discord are both
 * configured), each with the request version it last showed; every change bumps the version, and a card
 * behind it is redrawn — at once, then with backoff while its platform fails, and by the sweep after a
 * restart. Draws of one card run one at a time and read the request when they start, so the last one
 * shows the latest state. A platform that is down delays only its own cards.
 */
export class ApprovalCards {
  private readonly locks = new Map<string, Promise<unknown>>();
  /** A module's own card per request (a playbook's steps), drawn instead of the generic card. */
  private readonly own = new Map<number, Message>();
  private readonly background = new Set<Promise<unknown>>();
  private readonly retries = new Map<number, { timer: NodeJS.Timeout | undefined; attempt: number }>();
  private stopped = false;

  constructor(private readonly o: ApprovalCardsOptions) {}

  /**
   * Where copies of a request asked in `asked` go: every alert channel but that one, and only when more than
   * one platform is configured (a request on a single platform stays where it was asked).
   */
  copiesFor(asked: CardChannel): CardChannel[] {
    const channels = this.o.alertChannels ?? [];
    if (!this.o.postMessage || new Set(channels.map((c) => c.platform)).size < 2) return [];
    return channels.filter((c) => !(c.platform === asked.platform && c.channelId === asked.channelId));
  }

  /** Records the card posted where the request was asked and the copies still to post, then posts them (not awaited). */
  added(approval: Approval, asked: MessageRef): CardChannel[] {
    const now = this.o.clock();
    this.o.approvals.addCard(approval.id, asked, asked, approval.version, now);
    const copies = this.copiesFor(asked);
    for (const c of copies) this.o.approvals.addCard(approval.id, c, null, 0, now);
    if (copies.length > 0) void this.changed(approval.id);
    return copies;
  }

  /**
   * The request changed: redraws its cards that are behind (all of them with `force`, e.g. a playbook step).
   * `own` replaces the generic card from now on (undefined: the generic card). Resolves when every card was
   * tried; failures are retried in the background.
   */
  changed(id: number, opts: { own?: Message; force?: boolean } = {}): Promise<void> {
    this.setOwn(id, opts.own);
    return this.track(this.drawAll(id, opts.force === true));
  }

  /**
   * A click changed the request: its card is redrawn through the click's responder (awaited, as the clicker
   * waits for it), every other card in the background.
   */
  async redraw(id: number, via: ClickedCard, own?: Message): Promise<void> {
    this.setOwn(id, own);
    const a = this.o.approvals.get(id);
    if (!a) return;
    const clicked = a.cards.find((c) => c.platform === via.message.platform && c.messageId === via.message.messageId);
    // Queued on the clicked card first, so the background pass finds it drawn and leaves it.
    const mine = clicked ? this.drawCard(id, clicked, { force: own !== undefined, via, viaFirst: true }) : this.replaceOnly(a, via);
    void this.track(this.drawAll(id, false));
    await mine;
  }

  /** Redraws cards behind their request (after a restart, or a platform that was down); awaited by the sweep. */
  async catchUp(): Promise<void> {
    for (const id of this.o.approvals.withStaleCards(this.o.clock() - GIVE_UP_MS)) await this.changed(id, { own: this.own.get(id) });
  }

  stop(): void {
    this.stopped = true;
    for (const r of this.retries.values()) if (r.timer) clearTimeout(r.timer);
    this.retries.clear();
  }

  /** Settles when the background draws have (stop(), tests). */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  private setOwn(id: number, own: Message | undefined): void {
    if (own) this.own.set(id, own);
    else this.own.delete(id);
  }

  private track<T>(task: Promise<T>): Promise<T> {
    this.background.add(task);
    void task.finally(() => this.background.delete(task)).catch(() => undefined);
    return task;
  }

  private async drawAll(id: number, force: boolean): Promise<void> {
    const a = this.o.approvals.get(id);
    if (!a) return;
    const results = await Promise.all(a.cards.map((c) => this.drawCard(id, c, { force })));
    if (results.every(Boolean)) {
      const r = this.retries.get(id);
      if (r?.timer) clearTimeout(r.timer);
      this.retries.delete(id);
      if (a.state !== 'pending' && a.state !== 'approved' && a.state !== 'running') this.own.delete(id);
    } else if (a.updatedAt >= this.o.clock() - GIVE_UP_MS) {
      this.retryLater(id);
    }
  }

  /** Today's single-card behaviour for a click on a message that is not a stored card. */
  private async replaceOnly(a: Approval, via: ClickedCard): Promise<void> {
    try {
      await via.respond.replace(this.o.render(a, this.own.get(a.id)));
    } catch (err) {
      this.o.logger.warn({ err: errText(err), requestId: a.id }, 'could not update the approval card through the click');
    }
  }

  /** Draws one card under its lock with the request as it is then; false when it is still behind. */
  private drawCard(id: number, card: Pick<ApprovalCard, 'platform' | 'channelId'>, how: { force: boolean; via?: ClickedCard; viaFirst?: boolean }): Promise<boolean> {
    const key = `${id}:${card.platform}:${card.channelId}`;
    const run = async (): Promise<boolean> => {
      const a = this.o.approvals.get(id);
      const c = a?.cards.find((x) => x.platform === card.platform && x.channelId === card.channelId);
      if (!a || !c) return true;
      if (c.messageId === null) return this.postCopy(a, c);
      if (!how.force && c.drawnVersion >= a.version) return true;
      const message = this.o.render(a, this.own.get(id));
      const ref: MessageRef = { platform: c.platform, channelId: c.channelId, messageId: c.messageId, ...(c.threadId ? { threadId: c.threadId } : {}) };
      const byRef = this.o.editMessage ? () => this.o.editMessage!(ref, message) : undefined;
      const byClick = how.via && how.via.message.messageId === c.messageId ? () => how.via!.respond.replace(message) : undefined;
      const ways = (how.viaFirst ? [byClick, byRef] : [byRef, byClick]).filter((w): w is () => Promise<void> => w !== undefined);
      if (ways.length === 0) return true;
      for (const draw of ways) {
        try {
          await draw();
          this.o.approvals.markDrawn(id, c, a.version);
          return true;
        } catch (err) {
          this.o.logger.warn({ err: errText(err), requestId: id, platform: c.platform }, 'could not redraw an approval card; will retry');
        }
      }
      return false;
    };
    const next = (this.locks.get(key) ?? Promise.resolve()).then(run, run);
    const tail = next.catch(() => false);
    this.locks.set(key, tail);
    void tail.then(() => {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    });
    return next.catch(() => false);
  }

  /** A copy that could not be posted yet: posted while the request is pending, forgotten once it is decided. */
  private async postCopy(a: Approval, c: ApprovalCard): Promise<boolean> {
    if (a.state !== 'pending') {
      this.o.approvals.dropUnposted(a.id, c);
      return true;
    }
    try {
      const ref = await this.o.postMessage!(c.platform, c.channelId, this.o.render(a, this.own.get(a.id)));
      this.o.approvals.addCard(a.id, c, ref, a.version, this.o.clock());
    } catch (err) {
      this.o.logger.warn({ err: errText(err), requestId: a.id, platform: c.platform }, 'could not post the approval card to the alert channel; will retry');
      return false;
    }
    // Changed while the post was on its way (this runs under the card's lock: edit it here, not through drawCard).
    const now = this.o.approvals.get(a.id);
    if (!now || now.version <= a.version || !this.o.editMessage) return true;
    const ref = (now.cards.find((x) => x.platform === c.platform && x.channelId === c.channelId) ?? c) as ApprovalCard;
    if (!ref.messageId) return false;
    try {
      await this.o.editMessage({ platform: ref.platform, channelId: ref.channelId, messageId: ref.messageId }, this.o.render(now, this.own.get(a.id)));
      this.o.approvals.markDrawn(a.id, c, now.version);
      return true;
    } catch (err) {
      this.o.logger.warn({ err: errText(err), requestId: a.id, platform: c.platform }, 'could not redraw an approval card; will retry');
      return false;
    }
  }

  private retryLater(id: number): void {
    if (this.stopped) return;
    const r = this.retries.get(id) ?? { timer: undefined, attempt: 0 };
    if (r.timer) return;
    const delay = Math.min(RETRY_MAX_MS, (this.o.retryMs ?? 1000) * 2 ** r.attempt);
    r.attempt++;
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.track(this.drawAll(id, false));
    }, delay);
    r.timer.unref();
    this.retries.set(id, r);
  }
}
