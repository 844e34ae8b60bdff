import type { Alert, AlertTransition } from '../alerts/model.js';
import type { IncidentRepository } from '../store/incidents.js';
import type { Incident, IncidentMember, IncidentTransition, NodeRef } from './model.js';
import { NODE_TROUBLE_KINDS, scopeOf, type AlertScope } from './scope.js';
import type { Topology } from './topology.js';

export interface CorrelatorOptions {
  repo: IncidentRepository;
  topology: Topology;
  /** HEADWATCH_INCIDENT_WINDOW: alerts this close to an incident's last activity belong to it. */
  windowMs: number;
  /** This many nodes in trouble at once (within the window) is one server incident, not one per node. */
  serverNodes: number;
}

export interface Correlation {
  /** The alert belongs to an incident: chat shows it there, not on its own. */
  member: boolean;
  transitions: IncidentTransition[];
}

/**
 * Alerts in, incident transitions out. An alert joins the incident of its node or container when that one is
 * open or was active within the window (a resolved one re-opens); server-side causes (a broken proxy, the
 * Headscale container down) gather the node incidents of the window into one server incident, and so do
 * `serverNodes` nodes in trouble at once. Everything is stored before it returns, in one transaction per alert.
 */
export class Correlator {
  constructor(private readonly o: CorrelatorOptions) {}

  handle(t: AlertTransition): Correlation {
    const scope = scopeOf(t.alert, this.o.topology);
    if (!scope) return { member: false, transitions: [] };
    return this.o.repo.transaction(() => (t.alert.status === 'resolved' ? this.resolved(t) : this.firing(t, scope)));
  }

  private resolved(t: AlertTransition): Correlation {
    const m = this.o.repo.membershipOf(t.alert.fingerprint);
    if (!m) return { member: false, transitions: [] };
    const incident = this.o.repo.get(m.incidentId)!;
    if (m.status === 'resolved') return { member: true, transitions: [] };
    this.o.repo.putMember({ ...m, status: 'resolved', updatedAt: t.at });
    const counts = this.o.repo.memberCounts(incident.id);
    const line = `✅ ${t.alert.kind} · ${t.alert.subject} cleared: ${t.alert.summary}`;
    if (counts.firing > 0 || incident.status !== 'open') {
      const next = { ...incident, updatedAt: t.at };
      this.o.repo.save(next);
      return { member: true, transitions: [{ change: 'left', incident: next, at: t.at, note: line, alert: t.alert }] };
    }
    const next: Incident = { ...incident, status: 'resolved', resolvedAt: t.at, updatedAt: t.at };
    this.o.repo.save(next);
    return { member: true, transitions: [{ change: 'resolved', incident: next, at: t.at, note: line, alert: t.alert }] };
  }

  private firing(t: AlertTransition, scope: AlertScope): Correlation {
    const since = t.at - this.o.windowMs;
    const out: IncidentTransition[] = [];
    const existing = this.o.repo.membershipOf(t.alert.fingerprint);
    let incident = existing ? this.o.repo.get(existing.incidentId) : undefined;
    // A member that is still part of an open (or recently active) incident stays there.
    if (incident && incident.status === 'resolved' && incident.lastActivityAt < since) incident = undefined;
    if (!incident) incident = this.target(t, scope, out);
    const wasMember = existing?.incidentId === incident.id;
    const member: IncidentMember = {
      incidentId: incident.id,
      fingerprint: t.alert.fingerprint,
      kind: t.alert.kind,
      status: 'firing',
      joinedAt: wasMember ? existing!.joinedAt : t.at,
      updatedAt: t.at,
      ...(scope.kind === 'node' && scope.node ? { node: scope.node } : {}),
      ...(scope.kind === 'node' && scope.container ? { container: scope.container } : {}),
    };
    this.o.repo.putMember(member);
    this.addEntities(incident, scope);
    const reopened = incident.status === 'resolved';
    const refreshed = this.enrich({ ...incident, status: 'open', updatedAt: t.at, lastActivityAt: t.at }, scope);
    if (reopened) delete refreshed.resolvedAt;
    this.o.repo.save(refreshed);
    const opened = out.some((x) => x.change === 'opened' && x.incident.id === refreshed.id);
    if (!opened) {
      const change = reopened ? 'reopened' : wasMember && existing?.status === 'firing' ? 'updated' : 'joined';
      const note = change === 'updated' ? undefined : `${change === 'reopened' ? '🔁 re-opened by' : '➕ joined:'} ${t.alert.kind} · ${t.alert.subject} — ${t.alert.summary}`;
      out.push({ change, incident: refreshed, at: t.at, alert: t.alert, ...(note ? { note } : {}) });
    } else {
      const i = out.findIndex((x) => x.incident.id === refreshed.id);
      out[i] = { ...out[i]!, incident: refreshed, alert: t.alert };
    }
    if (refreshed.scope === 'node' && NODE_TROUBLE_KINDS.has(t.alert.kind)) out.push(...this.escalate(t.at));
    return { member: true, transitions: out };
  }

  /** The incident a new member goes to: its node's or container's, the server's, or a new one. */
  private target(t: AlertTransition, scope: AlertScope, out: IncidentTransition[]): Incident {
    const since = t.at - this.o.windowMs;
    if (scope.kind === 'server') {
      const server = this.o.repo.activeServer(since);
      if (server) return server;
      if (!scope.cause) {
        // A server-side symptom (Headscale's own CPU, a rejected client nobody runs here) next to exactly one
        // node in trouble is part of that node's incident.
        const nodes = this.o.repo.openNodeIncidents(since);
        if (nodes.length === 1) return nodes[0]!;
      }
      const created = this.create('server', t.at, {});
      out.push({ change: 'opened', incident: created, at: t.at });
      if (scope.cause) out.push(...this.gather(created, t.at, `a server-side problem (${t.alert.kind}) started within ${Math.round(this.o.windowMs / 60_000)} min of it`));
      return created;
    }
    const entities = { nodes: scope.node ? [scope.node.id] : [], containers: scope.container ? [scope.container] : [] };
    const mine = this.o.repo.activeFor(entities, since).filter((i) => i.status !== 'merged');
    if (mine[0]) return mine[0];
    const server = this.o.repo.activeServer(since);
    if (server && server.status === 'open') return server;
    const created = this.create('node', t.at, scope);
    out.push({ change: 'opened', incident: created, at: t.at });
    return created;
  }

  private create(scope: Incident['scope'], at: number, s: Partial<Extract<AlertScope, { kind: 'node' }>>): Incident {
    const base: Omit<Incident, 'id'> = { scope, status: 'open', openedAt: at, updatedAt: at, lastActivityAt: at };
    if (scope === 'server') base.container = this.o.topology.headscaleContainer;
    const created = this.o.repo.create(base);
    return this.enrich(created, s.kind ? (s as AlertScope) : undefined);
  }

  /** Fills in node, container and how they were matched, as soon as an alert tells them. */
  private enrich(i: Incident, scope: AlertScope | undefined): Incident {
    if (i.scope !== 'node' || !scope || scope.kind !== 'node') return i;
    const next = { ...i };
    if (scope.node && !next.node) next.node = scope.node;
    if (scope.node?.name && next.node && next.node.id === scope.node.id && !next.node.name) next.node = scope.node;
    if (scope.container && !next.container) next.container = scope.container;
    if (scope.detail && !next.matchedBy && scope.node && scope.container) next.matchedBy = scope.detail;
    if (!next.matchedBy && next.node && next.container) {
      const m = this.o.topology.containerForNode(next.node);
      if (m && m.container === next.container) next.matchedBy = m.detail;
    }
    return next;
  }

  private addEntities(i: Incident, scope: AlertScope): void {
    if (scope.kind !== 'node') return;
    if (scope.node) this.o.repo.addEntity(i.id, 'node', scope.node.id);
    if (scope.container) this.o.repo.addEntity(i.id, 'container', scope.container);
  }

  /** Folds the open node incidents of the window into a server incident. */
  private gather(server: Incident, at: number, why: string): IncidentTransition[] {
    const out: IncidentTransition[] = [];
    for (const n of this.troubled(at)) {
      if (n.id === server.id) continue;
      this.o.repo.moveInto(n.id, server.id);
      const merged: Incident = { ...n, status: 'merged', mergedInto: server.id, updatedAt: at };
      this.o.repo.save(merged);
      out.push({ change: 'merged', incident: merged, at, note: `↪ merged into incident #${server.id}: ${why}` });
    }
    if (out.length > 0) {
      const nodes = this.o.repo.nodesOf(server.id, 5);
      out.push({ change: 'joined', incident: this.o.repo.get(server.id)!, at, note: `➕ gathered ${out.length} node incident(s) (${describeNodes(nodes.nodes, nodes.total)}): ${why}` });
    }
    return out;
  }

  /** Open node incidents of the window with a node in trouble (flapping, offline): what a server fault causes. */
  private troubled(at: number): Incident[] {
    return this.o.repo
      .openNodeIncidents(at - this.o.windowMs)
      .filter((i) => this.o.repo.members(i.id, 50).some((m) => m.status === 'firing' && NODE_TROUBLE_KINDS.has(m.kind)));
  }

  /** Many nodes in trouble within the window: the server is the common cause, so one incident for it. */
  private escalate(at: number): IncidentTransition[] {
    const since = at - this.o.windowMs;
    const troubled = this.troubled(at);
    const nodes = new Set(troubled.map((i) => i.node?.id ?? `c:${i.container}`));
    if (nodes.size < this.o.serverNodes) return [];
    const out: IncidentTransition[] = [];
    let server = this.o.repo.activeServer(since);
    if (!server) {
      server = this.create('server', at, {});
      out.push({ change: 'opened', incident: server, at });
    } else if (server.status === 'resolved') {
      server = { ...server, status: 'open', updatedAt: at, lastActivityAt: at };
      delete server.resolvedAt;
      this.o.repo.save(server);
      out.push({ change: 'reopened', incident: server, at });
    }
    out.push(...this.gather(server, at, `${nodes.size} nodes in trouble within ${Math.round(this.o.windowMs / 60_000)} min point at the server`));
    const latest = this.o.repo.get(server.id)!;
    return out.map((x) => (x.incident.id === latest.id ? { ...x, incident: latest } : x));
  }
}

export function nodeLabel(n: NodeRef): string {
  return n.name ? `${n.name} (id ${n.id})` : `node ${n.id}`;
}

export function describeNodes(nodes: NodeRef[], total: number): string {
  const shown = nodes.map(nodeLabel).join(', ');
  return total > nodes.length ? `${shown} and ${total - nodes.length} more` : shown;
}

/** For tests and the message: the alert a member stands for. */
export type MemberAlert = IncidentMember & { alert?: Alert };
