import type { AlertRepository } from '../store/alerts.js';
import type { Alert, AlertTransition, DetectorEvent } from './model.js';

/**
 * Applies detector verdicts to the stored alerts and reports only real changes: a `fire` for an alert that
 * is already firing (for example after a restart) becomes an update, never a second announcement; a `resolve`
 * for an alert that is not firing is ignored.
 */
export class AlertLifecycle {
  constructor(private readonly repo: AlertRepository) {}

  apply(event: DetectorEvent, now: number): AlertTransition | undefined {
    const iso = new Date(now).toISOString();
    if (event.action === 'resolve') {
      const existing = this.repo.get(event.fingerprint);
      if (!existing || existing.status !== 'firing') return undefined;
      const resolved: Alert = {
        ...existing,
        status: 'resolved',
        summary: event.summary ?? existing.summary,
        updatedAt: iso,
        endsAt: iso,
      };
      this.repo.save(resolved);
      return { change: 'resolved', alert: resolved, at: now };
    }
    const draft = event.alert;
    const existing = this.repo.get(draft.fingerprint);
    if (existing && existing.status === 'firing') {
      const updated: Alert = {
        ...existing,
        severity: draft.severity,
        subject: draft.subject,
        summary: draft.summary,
        evidence: draft.evidence,
        labels: draft.labels ?? existing.labels,
        updatedAt: iso,
      };
      this.repo.save(updated);
      return { change: 'updated', alert: updated, at: now };
    }
    if (event.action === 'update') return undefined; // nothing firing to update
    const fired: Alert = {
      ...draft,
      labels: draft.labels ?? {},
      status: 'firing',
      startsAt: iso,
      updatedAt: iso,
      endsAt: null,
      occurrences: (existing?.occurrences ?? 0) + 1,
    };
    this.repo.save(fired);
    return { change: 'firing', alert: fired, at: now };
  }

  firing(): Alert[] {
    return this.repo.firing();
  }
}
