import type { Block, Message, Tone } from '../messages/model.js';
import type { Approval, ApprovalState } from '../store/approvals.js';
import { utc } from '../interaction/format.js';

/**
 * Approval cards and their button ids. A button id is `hw:<approve|deny>:<request id>:<nonce>`; the nonce is
 * random per request and checked against the database, so a button from an old, replaced or forged card
 * does nothing. Fits Discord's 100-character custom_id limit.
 */
export type Decision = 'approve' | 'deny';

export function approvalActionId(decision: Decision, approval: Pick<Approval, 'id' | 'nonce'>): string {
  return `hw:${decision}:${approval.id}:${approval.nonce}`;
}

export function parseApprovalAction(actionId: string): { decision: Decision; id: number; nonce: string } | undefined {
  const m = /^hw:(approve|deny):(\d{1,15}):([A-Za-z0-9_-]{8,64})$/.exec(actionId);
  if (!m) return undefined;
  return { decision: m[1] as Decision, id: Number(m[2]), nonce: m[3]! };
}

const STATE: Record<ApprovalState, { title: string; tone: Tone }> = {
  pending: { title: 'Approval needed', tone: 'warning' },
  approved: { title: 'APPROVED', tone: 'info' },
  running: { title: 'RUNNING', tone: 'info' },
  done: { title: 'DONE', tone: 'ok' },
  failed: { title: 'FAILED', tone: 'critical' },
  denied: { title: 'DENIED', tone: 'neutral' },
  expired: { title: 'EXPIRED', tone: 'neutral' },
};

function person(principal: string, name: string | null | undefined): string {
  return name ? `${name} (${principal})` : principal;
}

/** The card for a request in its current state; only a pending card has buttons. */
export function approvalCard(a: Approval, opts: { command: string; now: number }): Message {
  const { title, tone } = STATE[a.state];
  const approvers = a.votes.filter((v) => v.decision === 'approve');
  const denier = a.votes.find((v) => v.decision === 'deny');
  const fields = [
    { label: 'Action', value: a.summary },
    { label: 'Requested by', value: person(a.requester.principal, a.requester.userName) },
    { label: 'Approvals', value: `${approvers.length} of ${a.required}${approvers.length ? `: ${approvers.map((v) => person(v.principal, v.name)).join(', ')}` : ''}` },
  ];
  if (denier) fields.push({ label: 'Denied by', value: person(denier.principal, denier.name) });
  const status = statusLine(a, opts.now);
  fields.push({ label: 'Status', value: status });
  const blocks: Block[] = [
    { type: 'header', text: `${title}: ${a.summary}` },
    { type: 'fields', fields },
  ];
  if (a.result && (a.state === 'done' || a.state === 'failed')) blocks.push({ type: 'text', text: a.result });
  if (a.state === 'pending') {
    blocks.push({
      type: 'buttons',
      buttons: [
        { actionId: approvalActionId('approve', a), label: 'Approve', style: 'primary' },
        { actionId: approvalActionId('deny', a), label: 'Deny', style: 'danger' },
      ],
    });
  }
  blocks.push({ type: 'context', text: `Request #${a.id} · ${opts.command} ${a.command}` });
  const fallback = `${title}: ${a.summary} — requested by ${person(a.requester.principal, a.requester.userName)}; ${status}${
    a.result && (a.state === 'done' || a.state === 'failed') ? ` — ${a.result}` : ''
  }`;
  return { fallback, tone, blocks };
}

function statusLine(a: Approval, now: number): string {
  switch (a.state) {
    case 'pending': {
      const left = Math.max(0, Math.ceil((a.expiresAt - now) / 60_000));
      return `waiting for approval; expires ${utc(a.expiresAt)} (in ${left} min)`;
    }
    case 'approved':
      return `approved${a.decidedAt ? ` at ${utc(a.decidedAt)}` : ''}; starting`;
    case 'running':
      return 'approved; running now';
    case 'done':
      return 'done';
    case 'failed':
      return 'failed';
    case 'denied':
      return `denied${a.decidedAt ? ` at ${utc(a.decidedAt)}` : ''}; nothing was done`;
    case 'expired':
      return `EXPIRED at ${utc(a.expiresAt)} without enough approvals; nothing was done`;
  }
}
