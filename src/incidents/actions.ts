import type { Button } from '../messages/model.js';
import { commandButton } from '../interaction/buttons.js';
import type { Incident } from './model.js';

/**
 * The incident message's buttons. Each is a command button (src/interaction/buttons.ts): a click runs
 * `reregister`, `restart` or `silence add` as the clicker, through the same router → policy (roles, approval
 * card, approver ≠ requester, expiry, nonce) → action → audit path as the slash command. The id carries no
 * authority of its own.
 */

/** The fingerprint an incident is silenced by (`/headscale silence add incident:<id>`); never an alert's. */
export function incidentFingerprint(incidentId: number): string {
  return `incident:${incidentId}`;
}

/** `incident:<id>` back to the id, for silences naming an incident. */
export function incidentOfFingerprint(value: string): number | undefined {
  const m = /^incident:(\d{1,15})$/.exec(value);
  return m ? Number(m[1]) : undefined;
}

export function reregisterButton(i: Incident, style: Button['style']): Button | undefined {
  if (!i.node) return undefined;
  return fitting(() => commandButton('reregister', { target: i.node!.id, incident: i.id }, 'Re-register', style));
}

export function restartButton(i: Incident): Button | undefined {
  if (!i.container) return undefined;
  return fitting(() => commandButton('restart', { container: i.container! }, i.scope === 'server' ? 'Restart Headscale' : 'Restart container', 'default'));
}

export function silenceButton(i: Incident): Button {
  return commandButton('silence', { action: 'add', target: incidentFingerprint(i.id), for: '1h', comment: `incident #${i.id} button` }, 'Silence 1h', 'default');
}

/** A container name too long for a button id (100 characters) leaves the button out; the slash command still works. */
function fitting(make: () => Button): Button | undefined {
  try {
    return make();
  } catch (err) {
    if (err instanceof RangeError) return undefined;
    throw err;
  }
}
