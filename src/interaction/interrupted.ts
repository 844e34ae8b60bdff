import type { Logger } from '../log/logger.js';
import type { Approval, ApprovalRepository } from '../store/approvals.js';
import { errText, type Replies } from './replies.js';
import { actorOf, type Actor, type AnyCommand, type CommandContext, type Verification } from './types.js';

/** Verification asks Headscale or Docker once; a hung dependency must not keep the card unresolved for long. */
const VERIFY_TIMEOUT_MS = 20_000;

export interface InterruptedOptions {
  approvals: ApprovalRepository;
  commands: readonly AnyCommand[];
  contextFor: (actor: Actor) => CommandContext;
  replies: Replies;
  logger: Logger;
  clock: () => number;
}

/**
 * Approved actions that were running when headwatch stopped (a crash, SIGKILL, power cut). Each is verified
 * where it can be — the node looked up, the container's StartedAt read, the user's keys listed — and its card and
 * audit say "completed (verified after restart)", "did not run" or "unknown: check …". Never run again.
 */
export async function verifyInterrupted(o: InterruptedOptions, approval: Approval): Promise<Approval> {
  const module = o.commands.find((c) => c.name === approval.command);
  const manual = module?.manualCheck?.(approval.args) ?? `whether "${approval.summary}" took effect`;
  let v: Verification;
  if (!module?.verifyInterrupted) {
    v = { outcome: 'unknown', reason: `headwatch has no way to check ${approval.command} by itself` };
  } else {
    const requester = actorOf(approval.requester.platform, approval.requester.userId, approval.requester.userName ?? undefined);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${VERIFY_TIMEOUT_MS / 1000} s`)), VERIFY_TIMEOUT_MS);
    });
    try {
      v = await Promise.race([module.verifyInterrupted(o.contextFor(requester), approval.args, approval.updatedAt), timeout]);
    } catch (err) {
      v = { outcome: 'unknown', reason: errText(err) };
    } finally {
      clearTimeout(timer);
    }
  }
  const result =
    v.outcome === 'completed'
      ? `completed (verified after restart): ${v.detail}`
      : v.outcome === 'not-run'
        ? `did not run (verified after restart): ${v.detail}. Request it again if it is still needed.`
        : `unknown: headwatch stopped while this was running and could not verify it (${v.reason}) — check ${manual}.`;
  const to = v.outcome === 'completed' && !v.undone ? 'done' : 'failed';
  o.approvals.move(approval.id, 'running', to, o.clock(), { result });
  o.replies.record({
    actor: 'headwatch',
    event: 'verified',
    command: approval.command,
    requestId: approval.id,
    detail: {
      summary: approval.summary,
      outcome: v.outcome,
      ...(v.outcome === 'unknown' ? { reason: v.reason, check: manual } : { found: v.detail }),
      claimedAt: new Date(approval.updatedAt).toISOString(),
    },
  });
  o.logger.info({ requestId: approval.id, command: approval.command, outcome: v.outcome }, `interrupted action verified: ${result}`);
  return o.approvals.get(approval.id)!;
}
