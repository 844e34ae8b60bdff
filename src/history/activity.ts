import type { AlertTransition } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { ActivityCount, ActivityCounts, ActivityKind } from '../store/activity.js';

const HOUR = 3_600_000;

/**
 * Counts node transitions (told by the flapping detector, which already merges log and API sightings of one
 * change) and container deaths per hour, buffered in memory and written by `flush()` in one transaction.
 */
export class ActivityRecorder {
  private buffer = new Map<string, ActivityCount>();

  constructor(private readonly repo?: ActivityCounts) {}

  /** Container deaths from the Docker events stream (`die`; a restart is a die followed by a start). */
  observe(f: Finding): void {
    if (f.kind === 'container-state' && f.state === 'die') this.add('container-death', f.origin, f.origin, f.at, 1);
  }

  /** Alerts fired (first time or again after a resolve) and resolved, counted per alert kind. */
  alertTransition(t: AlertTransition): void {
    if (t.change === 'firing') this.add('alert-fired', t.alert.kind, t.alert.kind, t.at, 1);
    else if (t.change === 'resolved') this.add('alert-resolved', t.alert.kind, t.alert.kind, t.at, 1);
  }

  /** Incidents opened and resolved, counted per incident kind. */
  incident(change: 'opened' | 'resolved', kind: string, at: number): void {
    this.add(change === 'opened' ? 'incident-opened' : 'incident-resolved', kind, kind, at, 1);
  }

  /** One or more counted connect/disconnect transitions of a node. */
  nodeTransitions(nodeId: string, label: string | undefined, at: number, n: number): void {
    this.add('node-transition', nodeId, label ?? nodeId, at, n);
  }

  flush(): void {
    if (this.buffer.size === 0) return;
    const rows = [...this.buffer.values()];
    this.buffer = new Map();
    this.repo?.add(rows);
  }

  private add(kind: ActivityKind, subject: string, label: string, at: number, n: number): void {
    const hour = Math.floor(at / HOUR) * HOUR;
    const key = `${kind}\u0000${subject}\u0000${hour}`;
    const row = this.buffer.get(key);
    if (row) {
      row.n += n;
      row.label = label;
    } else {
      this.buffer.set(key, { kind, subject, label, hour, n });
    }
  }
}
