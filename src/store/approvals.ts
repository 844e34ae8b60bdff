import type { Store } from './db.js';
import type { MessageRef, Platform } from '../adapters/chat.js';

export type ApprovalState = 'pending' | 'approved' | 'running' | 'done' | 'failed' | 'denied' | 'expired';

export interface Vote {
  principal: string;
  name: string | null;
  decision: 'approve' | 'deny';
  at: number;
}

export interface Approval {
  id: number;
  nonce: string;
  command: string;
  args: unknown;
  summary: string;
  requester: { platform: Platform; userId: string; userName: string | null; principal: string };
  channelId: string;
  card: MessageRef | null;
  required: number;
  state: ApprovalState;
  createdAt: number;
  expiresAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  result: string | null;
  /** Last state change; for a running request, when it was claimed (an interrupted run is verified against it). */
  updatedAt: number;
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

  setCard(id: number, ref: MessageRef): void {
    this.db
      .prepare('UPDATE approvals SET card_channel = ?, card_message = ?, card_thread = ? WHERE id = ?')
      .run(ref.channelId, ref.messageId, ref.threadId ?? null, id);
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
        `UPDATE approvals SET state = ?, updated_at = ?,
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
      card:
        r.card_channel && r.card_message
          ? { platform, channelId: r.card_channel, messageId: r.card_message, ...(r.card_thread ? { threadId: r.card_thread } : {}) }
          : null,
      required: r.required,
      state: r.state as ApprovalState,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
      decidedAt: r.decided_at,
      decidedBy: r.decided_by,
      result: r.result,
      updatedAt: r.updated_at,
      votes,
    };
  }
}
