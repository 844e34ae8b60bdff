import type { MessageRef } from '../adapters/chat.js';
import type { Logger } from '../log/logger.js';
import type { NewSilence, Silence, Silences } from '../store/silences.js';

/**
 * What silencing needs of the dispatcher (src/dispatch): its silences, and for the alert message's Silence
 * button the alert a short hash names and a note on the message that carried the button.
 */
export interface SilenceControl extends Pick<Silences, 'create' | 'list' | 'expire'> {
  /** The fingerprint behind a Silence button that names its alert by hash (fingerprints too long for a button id). */
  fingerprintByHash?(hash: string): string | undefined;
  /**
   * Marks the alert's messages as silenced, in each channel's order: its message in every chat channel (on Slack
   * and Discord alike) and `clicked`, the message whose Silence button asked for it.
   */
  markSilenced?(fingerprint: string, note: string, clicked?: MessageRef): void;
}

export interface AddSilence extends NewSilence {
  /**
   * Who asked, for the note "🔕 Silenced by <who> until <time>" on the alert's messages, and the message whose
   * Silence button asked for it (none for a typed `/headscale silence add`).
   */
  from?: { message?: MessageRef; who: string };
}

/** Creates a silence (a RangeError names a bad duration); one naming an alert marks its messages on every platform. */
export function addSilence(control: SilenceControl, input: AddSilence, logger: Logger): Silence {
  const { from, ...silence } = input;
  const s = control.create(silence);
  const until = new Date(s.expiresAt).toISOString();
  logger.info({ matcher: s.matcher, value: s.value, silence: s.id, by: s.createdBy, until }, 'alerts silenced from chat');
  if (from && s.matcher === 'fingerprint') control.markSilenced?.(s.value, `🔕 Silenced by ${from.who} until ${until}`, from.message);
  return s;
}

/** Ends a silence early by id or unique id prefix; undefined when none matches. */
export function removeSilence(control: SilenceControl, idOrPrefix: string): Silence | undefined {
  return control.expire(idOrPrefix);
}
