import type { Store } from './db.js';
import type { MessageRef, Platform } from '../adapters/chat.js';

export type ApprovalState = 'pending' | 'approved' | 'running' | 'done' | 'failed' | 'denied' | 'expired';

export interface Vote {
  principal: string;
  name: string | null;
  decision: 'approve' | 'deny';
  at: number;
}

/**
 * One card of a request: where it was asked, or a platform's alert channel (cross-platform approvals).
 * `messageId` is null while a card could not be posted yet (its platform was down); `drawnVersion` is the
 * request version the card last showed, so a card behind the request is redrawn until it catches up.
 */
export interface ApprovalCard {
  platform: Platform;
  channelId: string;
  messageId: string | null;
  threadId?: string;
  drawnVersion: number;
}

export interface Approval {
  id: number;
  nonce: string;
  command: string;
  args: unknown;
  summary: string;
  requester: { platform: Platform; userId: string; userName: string | null; principal: string };
  channelId: string;
  /** Every card of the request, the one where it was asked first. */
  cards: ApprovalCard[];
  required: number;
  state: ApprovalState;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  result: string | null;
  /** Last state change; for a running request, when it was claimed (an interrupted run is verified against it). */
  updatedAt: number;
  /** Bumped by every change a card shows (a vote, a state move). */
  version: number;
  votes: Vote[];
}

export interface NewApproval {
  nonce: string;
  command: string;
  args: unknown;
  summary: string;
  requester: { platform: Platform; userId: string; userName?: string };
  channelId: string;
  required: number;
  createdAt: number;
  expiresAt: number;
}

export type VoteOutcome =
  | { kind: 'recorded'; approval: Approval; approvals: number }
  | { kind: 'approved'; approval: Approval }
  | { kind: 'denied'; approval: Approval }
  | { kind: 'duplicate'; approval: Approval }
  | { kind: 'expired'; approval: Approval }
  | { kind: 'not-pending'; approval: Approval }
  | { kind: 'missing' };

interface Row {
  id: number;
  nonce: string;
  command: string;
  args: string;
  summary: string;
  requester_platform: string;
  requester_id: string;
  requester_name: string | null;
  channel_id: string;
  card_channel: string | null;
  card_message: string | null;
  card_thread: string | null;
  required: number;
  state: string;
  created_at: number;
  expires_at: number;
  decided_at: number | null;
  decided_by: string | null;
  result: string | null;
  updated_at: number;
  version: number;
}

interface CardRow {
  platform: string;
  channel_id: string;
  message_id: string | null;
  thread_id: string | null;
  drawn_version: number;
}

/**
 * Approval requests and their votes. State only moves forward:
 *
 *   pending ─► approved ─► running ─► done | failed   (an interrupted run: verified after the restart)
 *      ├────► denied
 *      └────► expired
 *
 * Every move is a conditional UPDATE (`… WHERE state = <from>`) and callers act only when it changed exactly
 * one row, so a double click, a replayed click or two headwatch processes can never run an action twice.
 */
export class ApprovalRepository {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  create(input: NewApproval): Approval {
    const info = this.db
      .prepare(
        `INSERT INTO approvals (nonce, command, args, summary, requester_platform, requester_id, requester_name, channel_id,
           required, state, created_at, expires_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
      )
      .get(
        input.nonce,
        input.command,
        JSON.stringify(input.args),
        input.summary,
        input.requester.platform,
        input.requester.userId,
        input.requester.userName ?? null,
        input.channelId,
        input.required,
        input.createdAt,
        input.expiresAt,
        input.createdAt,
      );
    return this.get(Number((info as { id: number }).id))!;
  }

  get(id: number): Approval | undefined {
    const r = this.db.prepare('SELECT * FROM approvals WHERE id = ?').get(id) as Row | undefined;
    return r ? this.fromRow(r) : undefined;
  }

  /**
   * Records a card of the request: posted (`ref`), showing request version `drawnVersion`, or not posted yet
   * (`ref` null: its platform could not be reached; posted later while the request is pending).
   */
  addCard(id: number, where: { platform: Platform; channelId: string }, ref: MessageRef | null, drawnVersion: number, now: number): void {
    this.db
      .prepare(
        `INSERT INTO approval_cards (approval_id, platform, channel_id, message_id, thread_id, drawn_version, posted_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (approval_id, platform, channel_id) DO UPDATE SET message_id = excluded.message_id, thread_id = excluded.thread_id,
           drawn_version = excluded.drawn_version`,
      )
      .run(id, where.platform, where.channelId, ref?.messageId ?? null, ref?.threadId ?? null, drawnVersion, now);
  }

  /** The card now shows request version `version` (never moves back: a slow older edit does not undo a newer one). */
  markDrawn(id: number, card: Pick<ApprovalCard, 'platform' | 'channelId'>, version: number): void {
    this.db
      .prepare('UPDATE approval_cards SET drawn_version = ? WHERE approval_id = ? AND platform = ? AND channel_id = ? AND drawn_version < ?')
      .run(version, id, card.platform, card.channelId, version);
  }

  /** Forgets a card that was never posted (its request was decided before its platform came back). */
  dropUnposted(id: number, card: Pick<ApprovalCard, 'platform' | 'channelId'>): void {
    this.db.prepare('DELETE FROM approval_cards WHERE approval_id = ? AND platform = ? AND channel_id = ? AND message_id IS NULL').run(id, card.platform, card.channelId);
  }

  /**
   * Requests with a card behind them: showing an older version, or not posted yet. `since`: only requests changed
   * since then (a card of a platform that is gone for good is not retried forever).
   */
  withStaleCards(since = 0): number[] {
    const rows = this.db
      .prepare(
        `SELECT DISTINCT c.approval_id AS id FROM approval_cards c JOIN approvals a ON a.id = c.approval_id
         WHERE (c.drawn_version < a.version OR c.message_id IS NULL) AND a.updated_at >= ? ORDER BY c.approval_id`,
      )
      .all(since) as { id: number }[];
    return rows.map((r) => Number(r.id));
  }

  /**
   * Records one approver's decision in a single transaction: refuses duplicates and late votes, and moves the
   * request to approved (n-of-m reached) or denied (any deny).
   */
  /**
   * Records a vote. `sameAs`: the voter's other accounts (HEADWATCH_IDENTITIES): a vote from any of them already
   * counts for this person, so n-of-m counts people.
   */
  vote(id: number, principal: string, name: string | undefined, decision: 'approve' | 'deny', now: number, sameAs: readonly string[] = []): VoteOutcome {
    return this.db
      .transaction((): VoteOutcome => {
        const current = this.get(id);
        if (!current) return { kind: 'missing' };
        if (current.state !== 'pending') return { kind: 'not-pending', approval: current };
        if (now >= current.expiresAt) {
          this.move(id, 'pending', 'expired', now);
          return { kind: 'expired', approval: this.get(id)! };
        }
        const others = sameAs.filter((a) => a !== principal);
        if (others.length > 0) {
          const voted = this.db.prepare(`SELECT 1 FROM approval_votes WHERE approval_id = ? AND principal IN (${others.map(() => '?').join(',')}) LIMIT 1`).get(id, ...others);
          if (voted) return { kind: 'duplicate', approval: current };
        }
        const inserted = this.db
          .prepare('INSERT INTO approval_votes (approval_id, principal, name, decision, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
          .run(id, principal, name ?? null, decision, now);
        if (inserted.changes !== 1) return { kind: 'duplicate', approval: current };
        this.db.prepare('UPDATE approvals SET version = version + 1 WHERE id = ?').run(id);
        if (decision === 'deny') {
          this.move(id, 'pending', 'denied', now, { decidedBy: principal });
          return { kind: 'denied', approval: this.get(id)! };
        }
        const approvals = (
          this.db.prepare(`SELECT COUNT(*) AS n FROM approval_votes WHERE approval_id = ? AND decision = 'approve'`).get(id) as {
            n: number;
          }
        ).n;
        if (approvals >= current.required) {
          this.move(id, 'pending', 'approved', now, { decidedBy: principal });
          return { kind: 'approved', approval: this.get(id)! };
        }
        return { kind: 'recorded', approval: this.get(id)!, approvals };
      })
      .immediate();
  }

  /**
   * Conditional state change; true only for the one caller that made it. `approved → running` is the
   * execution claim: run the action only when this returns true.
   */
  move(id: number, from: ApprovalState, to: ApprovalState, now: number, extra: { decidedBy?: string; result?: string } = {}): boolean {
    const decided = to === 'approved' || to === 'denied' || to === 'expired';
    const info = this.db
      .prepare(
        `UPDATE approvals SET state = ?, updated_at = ?, version = version + 1,
           decided_at = CASE WHEN ? THEN ? ELSE decided_at END,
           decided_by = COALESCE(?, decided_by),
           result = COALESCE(?, result)
         WHERE id = ? AND state = ?`,
      )
      .run(to, now, decided ? 1 : 0, now, extra.decidedBy ?? null, extra.result ?? null, id, from);
    return info.changes === 1;
  }

  /** Pending requests whose time is up, moved to expired; returns the ones this call expired. */
  expireDue(now: number): Approval[] {
    return this.db
      .transaction(() => {
        const due = this.db.prepare(`SELECT id FROM approvals WHERE state = 'pending' AND expires_at <= ?`).all(now) as { id: number }[];
        const out: Approval[] = [];
        for (const { id } of due) if (this.move(id, 'pending', 'expired', now)) out.push(this.get(id)!);
        return out;
      })
      .immediate();
  }

  /**
   * After a restart: a request approved but not yet started is marked failed; it never ran and is never started
   * again (a person decides whether to ask again). Running ones are left for {@link running} to verify.
   */
  failNotStarted(now: number): Approval[] {
    return this.db
      .transaction(() => {
        const rows = this.db.prepare(`SELECT id FROM approvals WHERE state = 'approved'`).all() as { id: number }[];
        const why = 'did not run: headwatch stopped after the approval, before the action started. Request it again if it is still needed.';
        const out: Approval[] = [];
        for (const r of rows) if (this.move(r.id, 'approved', 'failed', now, { result: why })) out.push(this.get(r.id)!);
        return out;
      })
      .immediate();
  }

  /** Requests in `running`: after a restart, actions that were interrupted (verified, never run again). */
  running(): Approval[] {
    return (this.db.prepare(`SELECT * FROM approvals WHERE state = 'running' ORDER BY id`).all() as Row[]).map((r) => this.fromRow(r));
  }

  pending(): Approval[] {
    return (this.db.prepare(`SELECT * FROM approvals WHERE state = 'pending' ORDER BY id`).all() as Row[]).map((r) => this.fromRow(r));
  }

  private fromRow(r: Row): Approval {
    const votes = (
      this.db.prepare('SELECT principal, name, decision, at FROM approval_votes WHERE approval_id = ? ORDER BY at, principal').all(r.id) as Vote[]
    ).map((v) => ({ ...v }));
    const cards = (
      this.db
        .prepare(
          `SELECT * FROM approval_cards WHERE approval_id = ?
           ORDER BY CASE WHEN platform = ? AND channel_id = ? THEN 0 ELSE 1 END, posted_at, platform, channel_id`,
        )
        .all(r.id, r.requester_platform, r.channel_id) as CardRow[]
    ).map(
      (c): ApprovalCard => ({
        platform: c.platform as Platform,
        channelId: c.channel_id,
        messageId: c.message_id,
        ...(c.thread_id ? { threadId: c.thread_id } : {}),
        drawnVersion: Number(c.drawn_version),
      }),
    );
    const platform = r.requester_platform as Platform;
    return {
      id: r.id,
      nonce: r.nonce,
      command: r.command,
      args: JSON.parse(r.args) as unknown,
      summary: r.summary,
      requester: {
        platform,
        userId: r.requester_id,
        userName: r.requester_name,
        principal: `${platform}:${r.requester_id}`,
      },
      channelId: r.channel_id,
      cards,
      required: r.required,
      state: r.state as ApprovalState,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      decidedAt: r.decided_at,
      decidedBy: r.decided_by,
      result: r.result,
      updatedAt: r.updated_at,
      version: Number(r.version),
      votes,
    };
  }
}
