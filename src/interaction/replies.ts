import type { Responder } from '../adapters/chat.js';
import { maskSecrets, type Logger } from '../log/logger.js';
import type { Message } from '../messages/model.js';
import { HeadscaleError } from '../sources/headscale/types.js';
import type { AuditEntry, AuditLog } from '../store/audit.js';
import { CommandError, type Actor, type CommandResult } from './types.js';

/**
 * What the router and the approval flow share on the way back to the user: answering through a Responder
 * without letting a platform failure escape, the audit row of every step, and error text in operator words.
 */
export class Replies {
  constructor(
    private readonly audit: AuditLog,
    private readonly logger: Logger,
  ) {}

  async replace(respond: Responder, message: Message): Promise<void> {
    try {
      await respond.replace(message);
    } catch (err) {
      this.logger.warn({ err: errText(err) }, 'could not deliver a command answer');
    }
  }

  async private(respond: Responder, message: Message): Promise<boolean> {
    try {
      await respond.private({ ...message, ephemeral: true });
      return true;
    } catch (err) {
      this.logger.warn({ err: errText(err) }, 'could not deliver a private answer');
      return false;
    }
  }

  record(entry: Omit<AuditEntry, 'requestId'> & { requestId?: number | undefined }): void {
    try {
      const { requestId, ...rest } = entry;
      this.audit.append({ ...rest, ...(requestId !== undefined ? { requestId } : {}) });
    } catch (err) {
      // The audit log must not silently lose rows: make it loud, but do not crash the chat handler.
      this.logger.error({ err: errText(err), event: entry.event }, 'could not write the audit log');
    }
  }

  /** Expires a secret nobody received (create-key whose private delivery failed); true when that worked. */
  async revoke(result: CommandResult): Promise<boolean> {
    if (!result.revokeSecret) return false;
    try {
      await result.revokeSecret();
      return true;
    } catch (err) {
      this.logger.error({ err: errText(err) }, 'could not revoke an undelivered secret; expire it by hand');
      return false;
    }
  }
}

/**
 * Every answer to a command keeps the visibility its acknowledgement had (Discord cannot change it after the
 * first reply, and Slack treats an unset flag as ephemeral), so set it explicitly on each one.
 */
export function visible(respond: Responder, isPrivate: boolean): Responder {
  return {
    ack: (m) => respond.ack({ ...m, ephemeral: isPrivate }),
    replace: (m) => respond.replace({ ...m, ephemeral: isPrivate }),
    private: (m) => respond.private({ ...m, ephemeral: true }),
    post: (m) => respond.post(m),
  };
}

/** The actor columns of an audit row. */
export function who(actor: Actor): { actor: string; actorName?: string } {
  return { actor: actor.principal, ...(actor.userName ? { actorName: actor.userName } : {}) };
}

export function errText(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err);
  const flat = maskSecrets(m).replace(/\s+/g, ' ').trim();
  return flat.length > 300 ? `${flat.slice(0, 299)}…` : flat;
}

export function undeliveredText(revoked: boolean): string {
  return revoked
    ? 'The key was created but could not be delivered privately to the requester, so it was expired again. Run the command again.'
    : 'The key was created but could not be delivered privately to the requester, and expiring it failed: expire it with `headscale preauthkeys expire`.';
}

/** What went wrong in words an operator can act on; never a stack trace. */
export function describeError(command: string, err: unknown): string {
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
