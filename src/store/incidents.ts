import type { SqlStatement } from './sql.js';
import type { Store } from './db.js';
import type { Incident, IncidentMember, IncidentScope, IncidentStatus, NodeRef } from '../incidents/model.js';

/**
 * Incidents, their members (one row per alert fingerprint and incident) and the entities (nodes, containers)
 * they concern. Members and entities are rows of their own, not a JSON list on the incident, so a server
 * incident that gathers thousands of flapping nodes costs one small insert per member, not a rewrite.
 * Tables: migrations incidents/1 (src/store/migrations.ts).
 */

interface Row {
  id: number;
  scope: string;
  status: string;
  node_id: string | null;
  node_name: string | null;
  container: string | null;
  matched_by: string | null;
  opened_at: number;
  updated_at: number;
  last_activity_at: number;
  resolved_at: number | null;
  merged_into: number | null;
  reregister: string | null;
}

interface MemberRow {
  incident_id: number;
  fingerprint: string;
  kind: string;
  status: string;
  joined_at: number;
  updated_at: number;
  node_id: string | null;
  node_name: string | null;
  container: string | null;
}

function fromRow(r: Row): Incident {
  const i: Incident = {
    id: r.id,
    scope: r.scope as IncidentScope,
    status: r.status as IncidentStatus,
    openedAt: r.opened_at,
    updatedAt: r.updated_at,
    lastActivityAt: r.last_activity_at,
  };
  if (r.node_id !== null) i.node = r.node_name !== null ? { id: r.node_id, name: r.node_name } : { id: r.node_id };
  if (r.container !== null) i.container = r.container;
  if (r.matched_by !== null) i.matchedBy = r.matched_by;
  if (r.resolved_at !== null) i.resolvedAt = r.resolved_at;
  if (r.merged_into !== null) i.mergedInto = r.merged_into;
  if (r.reregister !== null) i.reregister = JSON.parse(r.reregister) as NonNullable<Incident['reregister']>;
  return i;
}

function memberFromRow(r: MemberRow): IncidentMember {
  const m: IncidentMember = {
    incidentId: r.incident_id,
    fingerprint: r.fingerprint,
    kind: r.kind,
    status: r.status as IncidentMember['status'],
    joinedAt: r.joined_at,
    updatedAt: r.updated_at,
  };
  if (r.node_id !== null) m.node = r.node_name !== null ? { id: r.node_id, name: r.node_name } : { id: r.node_id };
  if (r.container !== null) m.container = r.container;
  return m;
}

function params(i: Omit<Incident, 'id'>) {
  return {
    scope: i.scope,
    status: i.status,
    nodeId: i.node?.id ?? null,
    nodeName: i.node?.name ?? null,
    container: i.container ?? null,
    matchedBy: i.matchedBy ?? null,
    openedAt: i.openedAt,
    updatedAt: i.updatedAt,
    lastActivityAt: i.lastActivityAt,
    resolvedAt: i.resolvedAt ?? null,
    mergedInto: i.mergedInto ?? null,
    reregister: i.reregister ? JSON.stringify(i.reregister) : null,
  };
}

export interface Entities {
  nodes: string[];
  containers: string[];
}

export class IncidentRepository {
  constructor(private readonly store: Store) {}

  private readonly statements = new Map<string, SqlStatement>();

  /** Prepared once per SQL text: a storm runs these thousands of times. */
  private sql(text: string) {
    let st = this.statements.get(text);
    if (!st) {
      st = this.store.db.prepare(text);
      this.statements.set(text, st);
    }
    return st;
  }

  private get db() {
    return { prepare: (text: string) => this.sql(text), transaction: this.store.db.transaction.bind(this.store.db) };
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  create(i: Omit<Incident, 'id'>): Incident {
    const info = this.db
      .prepare(
        `INSERT INTO incidents (scope, status, node_id, node_name, container, matched_by, opened_at, updated_at, last_activity_at, resolved_at, merged_into, reregister)
         VALUES (@scope, @status, @nodeId, @nodeName, @container, @matchedBy, @openedAt, @updatedAt, @lastActivityAt, @resolvedAt, @mergedInto, @reregister)
         RETURNING id`,
      )
      .get(params(i)) as { id: number };
    return { ...i, id: Number(info.id) };
  }

  save(i: Incident): void {
    this.db
      .prepare(
        `UPDATE incidents SET scope = @scope, status = @status, node_id = @nodeId, node_name = @nodeName, container = @container,
           matched_by = @matchedBy, opened_at = @openedAt, updated_at = @updatedAt, last_activity_at = @lastActivityAt,
           resolved_at = @resolvedAt, merged_into = @mergedInto, reregister = @reregister
         WHERE id = @id`,
      )
      .run({ ...params(i), id: i.id });
  }

  get(id: number): Incident | undefined {
    const r = this.db.prepare('SELECT * FROM incidents WHERE id = ?').get(id) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Open incidents, and resolved ones whose last activity is at or after `since` (they may re-open). */
  activeFor(entities: Entities, since: number): Incident[] {
    const parts: string[] = [];
    const args: (string | number)[] = [];
    for (const n of entities.nodes) {
      parts.push(`(type = 'node' AND value = ?)`);
      args.push(n);
    }
    for (const c of entities.containers) {
      parts.push(`(type = 'container' AND value = ?)`);
      args.push(c);
    }
    if (parts.length === 0) return [];
    const rows = this.db
      .prepare(
        `SELECT i.* FROM incidents i
         WHERE i.id IN (SELECT incident_id FROM incident_entities WHERE ${parts.join(' OR ')})
           AND (i.status = 'open' OR (i.status = 'resolved' AND i.last_activity_at >= ?))
         ORDER BY i.status = 'open' DESC, i.id DESC`,
      )
      .all(...args, since) as Row[];
    return rows.map(fromRow);
  }

  /** The newest server incident that is open or was active at or after `since`. */
  activeServer(since: number): Incident | undefined {
    const r = this.db
      .prepare(
        `SELECT * FROM incidents WHERE scope = 'server' AND (status = 'open' OR (status = 'resolved' AND last_activity_at >= ?))
         ORDER BY status = 'open' DESC, id DESC LIMIT 1`,
      )
      .get(since) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Open node incidents active at or after `since`. */
  openNodeIncidents(since: number): Incident[] {
    return (
      this.db.prepare(`SELECT * FROM incidents WHERE scope = 'node' AND status = 'open' AND last_activity_at >= ? ORDER BY id`).all(since) as Row[]
    ).map(fromRow);
  }

  addEntity(incidentId: number, type: 'node' | 'container', value: string): void {
    this.db.prepare('INSERT INTO incident_entities (incident_id, type, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run(incidentId, type, value);
  }

  entities(incidentId: number): Entities {
    const rows = this.db.prepare('SELECT type, value FROM incident_entities WHERE incident_id = ? ORDER BY rowid').all(incidentId) as { type: string; value: string }[];
    return { nodes: rows.filter((r) => r.type === 'node').map((r) => r.value), containers: rows.filter((r) => r.type === 'container').map((r) => r.value) };
  }

  putMember(m: IncidentMember): void {
    this.db
      .prepare(
        `INSERT INTO incident_members (incident_id, fingerprint, kind, status, joined_at, updated_at, node_id, node_name, container)
         VALUES (@incidentId, @fingerprint, @kind, @status, @joinedAt, @updatedAt, @nodeId, @nodeName, @container)
         ON CONFLICT(incident_id, fingerprint) DO UPDATE SET kind = excluded.kind, status = excluded.status, updated_at = excluded.updated_at,
           node_id = COALESCE(excluded.node_id, incident_members.node_id), node_name = COALESCE(excluded.node_name, incident_members.node_name),
           container = COALESCE(excluded.container, incident_members.container)`,
      )
      .run({
        incidentId: m.incidentId,
        fingerprint: m.fingerprint,
        kind: m.kind,
        status: m.status,
        joinedAt: m.joinedAt,
        updatedAt: m.updatedAt,
        nodeId: m.node?.id ?? null,
        nodeName: m.node?.name ?? null,
        container: m.container ?? null,
      });
  }

  /** The newest membership of an alert in an incident that still counts (not merged away). */
  membershipOf(fingerprint: string): IncidentMember | undefined {
    const r = this.db
      .prepare(
        `SELECT m.* FROM incident_members m JOIN incidents i ON i.id = m.incident_id
         WHERE m.fingerprint = ? AND i.status != 'merged' ORDER BY m.incident_id DESC LIMIT 1`,
      )
      .get(fingerprint) as MemberRow | undefined;
    return r ? memberFromRow(r) : undefined;
  }

  /** Members, firing first then newest; `limit` bounds what a message shows of a huge server incident. */
  members(incidentId: number, limit = 10_000): IncidentMember[] {
    return (
      this.db
        .prepare(`SELECT * FROM incident_members WHERE incident_id = ? ORDER BY status = 'firing' DESC, updated_at DESC LIMIT ?`)
        .all(incidentId, limit) as MemberRow[]
    ).map(memberFromRow);
  }

  /** Up to `perKind` members of each kind (diagnosis evidence without reading ten thousand rows). */
  membersByKind(incidentId: number, perKind: number): IncidentMember[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM (SELECT m.*, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY status = 'firing' DESC, updated_at DESC) AS rn
             FROM incident_members m WHERE incident_id = ?) ranked WHERE rn <= ? ORDER BY kind, rn`,
        )
        .all(incidentId, perKind) as MemberRow[]
    ).map(memberFromRow);
  }

  memberCounts(incidentId: number): { firing: number; total: number; byKind: { kind: string; firing: number; total: number }[] } {
    const rows = this.db
      .prepare(`SELECT kind, SUM(CASE WHEN status = 'firing' THEN 1 ELSE 0 END) AS firing, COUNT(*) AS total FROM incident_members WHERE incident_id = ? GROUP BY kind ORDER BY kind`)
      .all(incidentId) as { kind: string; firing: number; total: number }[];
    return { firing: rows.reduce((s, r) => s + r.firing, 0), total: rows.reduce((s, r) => s + r.total, 0), byKind: rows };
  }

  /** Distinct nodes named by members (server incidents list them), with the total count. */
  nodesOf(incidentId: number, limit: number): { nodes: NodeRef[]; total: number } {
    const rows = this.db
      .prepare(
        `SELECT node_id, MAX(node_name) AS node_name FROM incident_members WHERE incident_id = ? AND node_id IS NOT NULL
         GROUP BY node_id ORDER BY MIN(joined_at) LIMIT ?`,
      )
      .all(incidentId, limit) as { node_id: string; node_name: string | null }[];
    const total = (this.db.prepare('SELECT COUNT(DISTINCT node_id) AS n FROM incident_members WHERE incident_id = ? AND node_id IS NOT NULL').get(incidentId) as { n: number }).n;
    return { nodes: rows.map((r) => (r.node_name !== null ? { id: r.node_id, name: r.node_name } : { id: r.node_id })), total };
  }

  /** Moves members and entities of `from` into `to` (a node incident folded into a server incident). */
  moveInto(from: number, to: number): void {
    this.db
      .prepare(
        `INSERT INTO incident_members (incident_id, fingerprint, kind, status, joined_at, updated_at, node_id, node_name, container)
         SELECT ?, fingerprint, kind, status, joined_at, updated_at, node_id, node_name, container FROM incident_members WHERE incident_id = ?
         ON CONFLICT(incident_id, fingerprint) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
      )
      .run(to, from);
    this.db.prepare('INSERT INTO incident_entities (incident_id, type, value) SELECT ?, type, value FROM incident_entities WHERE incident_id = ? ON CONFLICT DO NOTHING').run(to, from);
  }

  /** Open incidents first, then the most recently active; for `/headscale incidents`. */
  list(limit: number, since: number): Incident[] {
    return (
      this.db
        .prepare(
          `SELECT * FROM incidents WHERE status != 'merged' AND (status = 'open' OR last_activity_at >= ?)
           ORDER BY status = 'open' DESC, last_activity_at DESC LIMIT ?`,
        )
        .all(since, limit) as Row[]
    ).map(fromRow);
  }

  open(): Incident[] {
    return (this.db.prepare(`SELECT * FROM incidents WHERE status = 'open' ORDER BY id`).all() as Row[]).map(fromRow);
  }
}
