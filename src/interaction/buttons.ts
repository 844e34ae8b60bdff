import type { Button } from '../messages/model.js';
import type { AnyCommand, CommandDeps, RawValues } from './types.js';

/**
 * Buttons that run a subcommand. A button's action id is `<command>:<payload>`; the command module declares
 * `button` (ButtonSpec) to allow it. Adding a button to a message is then one call:
 *
 *     commandButton('restart', { container: 'tailscale-1' }, 'Restart container', 'danger')
 *
 * and the click is routed like `/headscale restart tailscale-1` typed by the clicker (roles, approval card,
 * audit). Approval buttons (`hw:approve|deny:…`, src/policy/approvals.ts) are the only other kind.
 */

/** Discord's custom_id limit (Slack allows 255). */
export const MAX_ACTION_ID = 100;

/** A button whose click runs `command` with these option values. Throws when the id would not fit a button. */
export function commandButton(command: string, values: RawValues, label: string, style: Button['style'] = 'default'): Button {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) params.set(k, String(v));
  const actionId = `${command}:?${params.toString()}`;
  if (actionId.length > MAX_ACTION_ID) {
    throw new RangeError(`the button "${label}" would carry ${actionId.length} characters; buttons carry at most ${MAX_ACTION_ID}`);
  }
  return { actionId, label, style };
}

export type PressedButton =
  | { kind: 'unknown' }
  | { kind: 'problem'; module: AnyCommand; problem: string }
  | { kind: 'invocation'; module: AnyCommand; values: RawValues };

/** Which command a (non-approval) button click asks for, with its option values. */
export function readButton(actionId: string, commands: readonly AnyCommand[], deps: CommandDeps): PressedButton {
  const cut = actionId.indexOf(':');
  if (cut <= 0) return { kind: 'unknown' };
  const module = commands.find((c) => c.name === actionId.slice(0, cut));
  if (!module?.button) return { kind: 'unknown' };
  const payload = actionId.slice(cut + 1);
  if (payload.startsWith('?')) {
    const values: RawValues = {};
    for (const [k, v] of new URLSearchParams(payload.slice(1))) values[k] = v;
    return { kind: 'invocation', module, values };
  }
  if (!module.button.decode) return { kind: 'unknown' };
  const decoded = module.button.decode(payload, deps);
  return 'problem' in decoded ? { kind: 'problem', module, problem: decoded.problem } : { kind: 'invocation', module, values: decoded.values };
}
