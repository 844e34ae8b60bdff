import type { Alert } from '../../alerts/model.js';
import type { Flush, Notification, Stage, SuppressReason } from './types.js';

/** Kinds held back while their parent alert fires (Headscale unreachable ⇒ every node looks offline). */
export const INHIBIT_RULES: { source: string; targets: string[] }[] = [
  { source: 'headscale-unreachable', targets: ['node-offline', 'node-flapping'] },
];

/**
 * Alertmanager's MuteStage: drops firing alerts a muter says to hold back, counting them. Resolutions always
 * pass: they may still have to tidy up a message that was posted before the mute.
 */
function muteStage(name: string, reason: SuppressReason, muterFor: (f: Flush) => ((a: Alert) => boolean) | undefined): Stage {
  return {
    name,
    run(f: Flush, batch: Notification[]): Notification[] {
      const muted = muterFor(f);
      if (!muted) return batch;
      return batch.filter(({ alert }) => {
        if (alert.status !== 'firing' || !muted(alert)) return true;
        f.suppressed(reason);
        return false;
      });
    },
  };
}

/** Alerts an active silence matches (by fingerprint, kind or subject). */
export const silenceStage = muteStage('silence', 'silenced', (f) => (a) => f.silences.matching(a) !== undefined);

/** Alerts whose parent alert fires (INHIBIT_RULES). */
export const inhibitStage = muteStage('inhibit', 'inhibited', (f) => {
  const active = INHIBIT_RULES.filter((r) => f.alerts.isAnyFiring(r.source));
  return active.length === 0 ? undefined : (a) => active.some((r) => r.targets.includes(a.kind));
});
