import type { Logger } from 'pino';
import type { Alert, AlertTransition } from '../alerts/model.js';
import type { Destination } from '../destinations/destination.js';
import type { Metrics } from '../http/metrics.js';
import { formatDuration } from './messages.js';

export interface PlatformHealthOptions {
  destinations: readonly Destination[];
  logger: Logger;
  metrics?: Metrics;
  /** A platform disconnected this long is reported (default 60 s). */
  downAfterMs?: number;
  /** The platform answers again (reconnect, or a call answered after failures): what waited for it may go now. */
  wake(name: string): void;
  /** Hands a `platform-down` alert to the notification path, kept away from the platform it is about. */
  record(alert: Alert, change: AlertTransition['change'], exclude: string): void;
}

/**
 * Self-monitoring of the destinations that hold a connection (chat platforms): the `up` gauge, a log line when a
 * connection drops, and a `platform-down` alert on the other destinations once it stays down for a while, resolved
 * when it is back.
 */
export class PlatformHealth {
  private readonly down = new Map<string, { since: number; reported: boolean }>();
  /** Connection `since` last seen per platform: a change while connected is a reconnect (even between ticks). */
  private readonly seenSince = new Map<string, number>();

  constructor(private readonly o: PlatformHealthOptions) {}

  /** A platform reported down before a restart is still down as far as anyone was told: its recovery resolves it. */
  restore(firingPlatformDown: readonly Alert[]): void {
    for (const a of firingPlatformDown) {
      const d = this.o.destinations.find((x) => x.status && a.fingerprint === fingerprintFor(x.name));
      if (d) this.down.set(d.name, { since: Date.parse(a.startsAt), reported: true });
    }
  }

  check(now: number): void {
    const after = this.o.downAfterMs ?? 60_000;
    for (const dest of this.o.destinations) {
      if (!dest.status) continue;
      const st = dest.status();
      const name = dest.name;
      this.o.metrics?.up.set({ dependency: name }, st.connected ? 1 : 0);
      // Socket Mode hello, gateway READY, an HTTP-mode call answered again: what waited for this platform goes now.
      if (st.connected && this.seenSince.get(name) !== st.since) this.o.wake(name);
      this.seenSince.set(name, st.since);
      const d = this.down.get(name);
      if (!st.connected) {
        if (!d) {
          this.down.set(name, { since: now, reported: false });
          this.o.logger.warn({ platform: name, error: st.lastError }, `${name} connection lost; reconnecting`);
        } else if (!d.reported && now - d.since >= after) {
          d.reported = true;
          this.o.logger.error(
            { platform: name, downForMs: now - d.since, error: st.lastError },
            `${name} has been unreachable for ${formatDuration(now - d.since)}; alerts for it wait in the outbox. Check the network and the token.`,
          );
          this.o.record(platformAlert(dest, 'firing', d.since, now, st.lastError), 'firing', name);
        }
      } else if (d) {
        this.down.delete(name);
        this.o.logger.info({ platform: name, downForMs: now - d.since }, `${name} connection is back`);
        if (d.reported) this.o.record(platformAlert(dest, 'resolved', d.since, now), 'resolved', name);
      }
    }
  }

  /** How long a platform has been disconnected, when it is. */
  downForMs(name: string, now: number): number | undefined {
    const d = this.down.get(name);
    return d ? now - d.since : undefined;
  }
}

function fingerprintFor(name: string): string {
  return `platform-down:${name}`;
}

function platformAlert(dest: Destination, status: 'firing' | 'resolved', since: number, now: number, error?: string): Alert {
  const who = dest.displayName;
  return {
    fingerprint: fingerprintFor(dest.name),
    kind: 'platform-down',
    severity: 'critical',
    subject: dest.name,
    summary:
      status === 'firing'
        ? `${who} has been unreachable for ${formatDuration(now - since)}; its alerts are queued and will be delivered when it is back.`
        : `${who} is reachable again after ${formatDuration(now - since)}.`,
    evidence: error ? [error] : [],
    // What the advice names (src/alerts/kinds.ts), so that nothing outside the platform's folder knows its settings.
    labels: { platform: who, ...(dest.credentialSettings?.length ? { settings: dest.credentialSettings.join(', ') } : {}) },
    status,
    startsAt: new Date(since).toISOString(),
    updatedAt: new Date(now).toISOString(),
    endsAt: status === 'resolved' ? new Date(now).toISOString() : null,
    occurrences: 1,
  };
}
