import { incidentSubject, type IncidentView } from './message.js';

/**
 * The `incident` object of the webhook payload and the console line: the same facts the chat message shows,
 * as data. Cause names are the stable ones (CAUSE_NAMES); member fingerprints are the alerts' own.
 */
export interface IncidentPayload {
  id: number;
  scope: 'node' | 'server';
  subject: string;
  status: 'open' | 'resolved' | 'merged';
  openedAt: string;
  resolvedAt: string | null;
  mergedInto: number | null;
  node: { id: string; name: string | null } | null;
  container: string | null;
  matchedBy: string | null;
  /** Server incidents: the nodes concerned (first ones) and how many there are. */
  nodes: { id: string; name: string | null }[];
  nodeCount: number;
  causes: { name: string; title: string; score: number; evidence: string[]; fix: string }[];
  /** What to do first when the top cause says so (an upgrade), in words. */
  firstStep: string | null;
  members: { fingerprint: string; kind: string; status: 'firing' | 'resolved' }[];
  memberCount: number;
  firing: number;
  reregister: { runId: number; by: string; at: string; ok: boolean } | null;
}

export function incidentPayload(view: IncidentView, firstStep?: string): IncidentPayload {
  const i = view.incident;
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    id: i.id,
    scope: i.scope,
    subject: incidentSubject(i, view.nodes),
    status: i.status,
    openedAt: new Date(i.openedAt).toISOString(),
    resolvedAt: iso(i.resolvedAt),
    mergedInto: i.mergedInto ?? null,
    node: i.node ? { id: i.node.id, name: i.node.name ?? null } : null,
    container: i.container ?? null,
    matchedBy: i.matchedBy ?? null,
    nodes: view.nodes.nodes.map((n) => ({ id: n.id, name: n.name ?? null })),
    nodeCount: view.nodes.total,
    causes: view.causes.map((c) => ({ name: c.name, title: c.title, score: c.score, evidence: c.evidence, fix: c.fix })),
    firstStep: firstStep ?? null,
    members: view.members.map((m) => ({ fingerprint: m.member.fingerprint, kind: m.member.kind, status: m.member.status })),
    memberCount: view.counts.total,
    firing: view.counts.firing,
    reregister: i.reregister ? { runId: i.reregister.runId, by: i.reregister.by, at: new Date(i.reregister.at).toISOString(), ok: i.reregister.ok } : null,
  };
}

/** One console line per incident change. */
export function incidentLine(view: IncidentView, change: string): string {
  const i = view.incident;
  const top = view.causes[0];
  const cause = top ? `likely ${top.name}${top.firstStep ? ` (${top.firstStep.kind === 'upgrade-headscale' ? `upgrade Headscale to ${top.firstStep.to} first` : `upgrade the client to ${top.firstStep.minimum} first`})` : ''}` : 'no cause has evidence';
  const status = i.status === 'open' ? 'OPEN' : i.status.toUpperCase();
  return `INCIDENT #${i.id} ${change.toUpperCase()} [${status}] ${incidentSubject(i, view.nodes)} — ${cause}; ${view.counts.firing} of ${view.counts.total} alerts firing`;
}
