import type { Store } from './db.js';
import type { PlaybookRun, PlaybookStep } from '../incidents/playbook-model.js';

/**
 * Re-register playbook runs with the state of every step, written before and after each step so that a crash
 * mid-run leaves a record of what was done and what may have been (never run again automatically). Keys are
 * stored by id, prefix and expiry only: the secret never reaches this table.
 * Table: migration playbooks/1 (src/store/migrations.ts).
 */

interface Row {
  id: number;
  playbook: string;
  incident_id: number | null;
  approval_id: number | null;
  container: string;
  node: string;
  requested_by: string;
  approved_by: string | null;
  state: string;
  steps: string;
  key_info: string | null;
  new_node_id: string | null;
  undone: string;
  next_step: string | null;
  started_at: number;
  updated_at: number;
  finished_at: number | null;
}

function fromRow(r: Row): PlaybookRun {
  const run: PlaybookRun = {
    id: r.id,
    container: r.container,
    node: JSON.parse(r.node) as PlaybookRun['node'],
    requestedBy: r.requested_by,
    state: r.state as PlaybookRun['state'],
    steps: JSON.parse(r.steps) as PlaybookStep[],
    undone: JSON.parse(r.undone) as string[],
    startedAt: r.started_at,
    updatedAt: r.updated_at,
  };
  if (r.incident_id !== null) run.incidentId = r.incident_id;
  if (r.approval_id !== null) run.approvalId = r.approval_id;
  if (r.approved_by !== null) run.approvedBy = r.approved_by;
  if (r.key_info !== null) run.key = JSON.parse(r.key_info) as NonNullable<PlaybookRun['key']>;
  if (r.new_node_id !== null) run.newNodeId = r.new_node_id;
  if (r.next_step !== null) run.next = r.next_step;
  if (r.finished_at !== null) run.finishedAt = r.finished_at;
  return run;
}

function toParams(run: Omit<PlaybookRun, 'id'>) {
  return {
    incidentId: run.incidentId ?? null,
    approvalId: run.approvalId ?? null,
    container: run.container,
    node: JSON.stringify(run.node),
    requestedBy: run.requestedBy,
    approvedBy: run.approvedBy ?? null,
    state: run.state,
    steps: JSON.stringify(run.steps),
    key: run.key ? JSON.stringify(run.key) : null,
    newNodeId: run.newNodeId ?? null,
    undone: JSON.stringify(run.undone),
    next: run.next ?? null,
    startedAt: run.startedAt,
    updatedAt: run.updatedAt,
    finishedAt: run.finishedAt ?? null,
  };
}

export class PlaybookRepository {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  create(run: Omit<PlaybookRun, 'id'>): PlaybookRun {
    const info = this.db
      .prepare(
        `INSERT INTO playbook_runs (playbook, incident_id, approval_id, container, node, requested_by, approved_by, state, steps, key_info,
           new_node_id, undone, next_step, started_at, updated_at, finished_at)
         VALUES ('reregister', @incidentId, @approvalId, @container, @node, @requestedBy, @approvedBy, @state, @steps, @key,
           @newNodeId, @undone, @next, @startedAt, @updatedAt, @finishedAt)
         RETURNING id`,
      )
      .get(toParams(run)) as { id: number };
    return { ...run, id: Number(info.id) };
  }

  save(run: PlaybookRun): void {
    this.db
      .prepare(
        `UPDATE playbook_runs SET incident_id = @incidentId, approval_id = @approvalId, container = @container, node = @node,
           requested_by = @requestedBy, approved_by = @approvedBy, state = @state, steps = @steps, key_info = @key,
           new_node_id = @newNodeId, undone = @undone, next_step = @next, updated_at = @updatedAt, finished_at = @finishedAt
         WHERE id = @id`,
      )
      .run({ ...toParams(run), id: run.id });
  }

  get(id: number): PlaybookRun | undefined {
    const r = this.db.prepare('SELECT * FROM playbook_runs WHERE id = ?').get(id) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  running(): PlaybookRun[] {
    return (this.db.prepare(`SELECT * FROM playbook_runs WHERE state = 'running' ORDER BY id`).all() as Row[]).map(fromRow);
  }

  /** The newest run for an incident. */
  latestFor(incidentId: number): PlaybookRun | undefined {
    const r = this.db.prepare('SELECT * FROM playbook_runs WHERE incident_id = ? ORDER BY id DESC LIMIT 1').get(incidentId) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** The newest run for this container and node started at or after `since`. */
  runFor(container: string, nodeId: string, since: number): PlaybookRun | undefined {
    const rows = this.db.prepare('SELECT * FROM playbook_runs WHERE container = ? AND started_at >= ? ORDER BY id DESC').all(container, since) as Row[];
    return rows.map(fromRow).find((r) => r.node.id === nodeId);
  }

  byApproval(approvalId: number): PlaybookRun | undefined {
    const r = this.db.prepare('SELECT * FROM playbook_runs WHERE approval_id = ? ORDER BY id DESC LIMIT 1').get(approvalId) as Row | undefined;
    return r ? fromRow(r) : undefined;
  }
}
