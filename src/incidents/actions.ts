/**
 * Button ids on an incident message: `inc:<what>:<incident id>`. A click is turned into the same invocation a
 * slash command would be (`reregister`, `restart`, `silence`) and goes through the same router → policy →
 * action → audit path; the id carries no authority of its own.
 */
export type IncidentAction = 'reregister' | 'restart' | 'silence';

const PREFIX = 'inc:';

export function incidentActionId(action: IncidentAction, incidentId: number): string {
  return `${PREFIX}${action}:${incidentId}`;
}

export function parseIncidentAction(actionId: string): { action: IncidentAction; incidentId: number } | undefined {
  const m = /^inc:(reregister|restart|silence):(\d{1,15})$/.exec(actionId);
  if (!m) return undefined;
  return { action: m[1] as IncidentAction, incidentId: Number(m[2]) };
}

/** The fingerprint an incident is silenced, routed and de-duplicated by (it is never an alert's). */
export function incidentFingerprint(incidentId: number): string {
  return `incident:${incidentId}`;
}
