import type { Alert, AlertKind } from '../../../src/alerts/model.js';
import type { Lane } from '../../../src/dispatch/lanes.js';
import type { Flush, FlushParts, SuppressReason } from '../../../src/dispatch/stages/types.js';
import { AlertRepository } from '../../../src/store/alerts.js';
import { Store } from '../../../src/store/db.js';
import { Digests } from '../../../src/store/digests.js';
import { NotificationLog } from '../../../src/store/notification-log.js';
import { NotifyQueue } from '../../../src/store/notify-queue.js';
import { Outbox } from '../../../src/store/outbox.js';
import { Silences } from '../../../src/store/silences.js';
import { tmpDb } from '../../adapters/helpers.js';

export const T0 = Date.parse('2026-11-26T12:00:00Z');
export const SLACK: Lane = { key: 'slack:C0TEST', destination: 'slack', kind: 'chat', channelId: 'C0TEST' };
export const CONSOLE: Lane = { key: 'console', destination: 'console', kind: 'alerts' };

export function alert(kind: AlertKind, subject: string, over: Partial<Alert> = {}): Alert {
  return {
    fingerprint: `${kind}:${subject}`,
    kind,
    severity: 'warning',
    subject,
    summary: `${kind} on ${subject}`,
    evidence: [],
    labels: {},
    status: 'firing',
    startsAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    endsAt: null,
    occurrences: 1,
    ...over,
  };
}

/** A real SQLite file with the repositories a flush uses, and the suppression counts it reported. */
export class Rig {
  now = T0;
  readonly db = tmpDb();
  readonly store = new Store(this.db.path);
  readonly suppressed: Partial<Record<SuppressReason, number>> = {};
  readonly parts: FlushParts = {
    alerts: new AlertRepository(this.store),
    queue: new NotifyQueue(this.store),
    log: new NotificationLog(this.store),
    digests: new Digests(this.store),
    outbox: new Outbox(this.store),
    silences: new Silences(this.store, () => this.now),
    groupIntervalMs: 10_000,
    repeatIntervalMs: 3_600_000,
    channelBudget: 3,
    suppressed: (reason, n = 1) => {
      this.suppressed[reason] = (this.suppressed[reason] ?? 0) + n;
    },
  };

  flush(lane: Lane, group = 'node-offline'): Flush {
    return { ...this.parts, lane, group, now: this.now };
  }

  /** Outbox rows as [op, refKey prefix, text] for compact assertions. */
  rows(lane: Lane): { op: string; ref: string; text: string }[] {
    return this.parts.outbox.all(lane.key).map((r) => ({ op: r.op, ref: r.refKey.replace(/:\d{10,}$/, ''), text: JSON.stringify(r.payload) }));
  }

  close(): void {
    this.store.close();
    this.db.cleanup();
  }
}
