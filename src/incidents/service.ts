import type { Alert, AlertTransition } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { IncidentRepository } from '../store/incidents.js';
import type { PlaybookRepository } from '../store/playbooks.js';
import { Correlator, type Correlation } from './correlate.js';
import { EvidenceLog } from './evidence.js';
import { firstStepText, incidentMessage, type IncidentView } from './message.js';
import { incidentLine, incidentPayload, type IncidentPayload } from './payload.js';
import type { Cause, Incident } from './model.js';
import type { PlaybookRun } from './playbook-model.js';
import { nodeBack, recoverRun, runReregister, type ReregisterDeps, type ReregisterInput } from './playbook.js';
import type { HeadscaleApi } from '../sources/headscale/types.js';
import type { Logger } from '../log/logger.js';
import type { Verification } from '../interaction/types.js';
import { Topology, type TopologySource } from './topology.js';
import { resolveContainerName } from '../sources/docker/names.js';
import { IncidentViews, type IncidentFacts } from './view.js';
import type { Message } from '../messages/model.js';

export interface IncidentServiceOptions {
  incidents: IncidentRepository;
  playbooks: PlaybookRepository;
  alerts: { get(fingerprint: string): Alert | undefined };
  /** Containers, nodes and versions as the sources see them. */
  world: TopologySource & IncidentFacts & { observe?(f: Finding): void };
  nodeMap: Map<string, string>;
  windowMs: number;
  serverNodes: number;
  aheadMarginMinors?: number;
  silencedNote?: (incident: Incident) => string | undefined;
  /** An incident's message needs redrawing outside an alert change (a Re-register step moved on). */
  onChanged?: (incidentId: number, note?: string) => void;
}

/** What a `/headscale reregister` target resolves to. */
export interface Target {
  container?: string;
  node?: { id: string; name?: string };
  /** How the two were tied, when both are known. */
  matchedBy?: string;
  incident?: Incident;
}

/**
 * The incidents as one value for the composition root: alerts and findings in (correlation, evidence),
 * messages and lists out (dispatch, commands). Everything but the evidence log is in SQLite.
 */
export class IncidentService {
  readonly topology: Topology;
  readonly evidence: EvidenceLog;
  private readonly correlator: Correlator;
  private readonly views: IncidentViews;

  constructor(private readonly o: IncidentServiceOptions) {
    this.topology = new Topology(o.world, o.nodeMap);
    this.evidence = new EvidenceLog(o.windowMs);
    this.correlator = new Correlator({ repo: o.incidents, topology: this.topology, windowMs: o.windowMs, serverNodes: o.serverNodes });
    this.views = new IncidentViews({
      incidents: o.incidents,
      alerts: o.alerts,
      playbooks: o.playbooks,
      facts: o.world,
      evidence: this.evidence,
      ...(o.silencedNote ? { silencedNote: o.silencedNote } : {}),
      ...(o.aheadMarginMinors !== undefined ? { aheadMarginMinors: o.aheadMarginMinors } : {}),
    });
  }

  /** Every finding passes here too: the diagnosis quotes notable lines that are not alerts of their own. */
  observe(f: Finding): void {
    this.evidence.observe(f);
    this.o.world.observe?.(f);
  }

  handle(t: AlertTransition): Correlation {
    return this.correlator.handle(t);
  }

  get(id: number): Incident | undefined {
    return this.o.incidents.get(id);
  }

  view(id: number, now: number): IncidentView | undefined {
    return this.views.view(id, now);
  }

  message(id: number, now: number): Message | undefined {
    const v = this.views.view(id, now);
    return v ? incidentMessage(v) : undefined;
  }

  /** Member alerts as stored (bounded): their routes decide where the incident's message goes. */
  memberAlerts(id: number, limit: number): Alert[] {
    return this.o.incidents
      .members(id, limit)
      .map((m) => this.o.alerts.get(m.fingerprint))
      .filter((a): a is Alert => a !== undefined);
  }

  /** The incident an alert is a member of, as the webhook's `incident` object and the console line. */
  payloadOf(fingerprint: string, now: number): { payload: IncidentPayload; line: (change: 'opened' | 'updated') => string } | undefined {
    const m = this.o.incidents.membershipOf(fingerprint);
    if (!m) return undefined;
    let incident = this.o.incidents.get(m.incidentId);
    // A merged node incident's members now belong to the server incident.
    if (incident?.status === 'merged' && incident.mergedInto !== undefined) incident = this.o.incidents.get(incident.mergedInto);
    const v = incident ? this.views.view(incident.id, now) : undefined;
    if (!v) return undefined;
    const step = v.incident.status === 'open' ? v.causes[0]?.firstStep : undefined;
    return { payload: incidentPayload(v, step ? firstStepText(step) : undefined), line: (change) => incidentLine(v, v.incident.status === 'open' ? change : v.incident.status) };
  }

  causes(incident: Incident, now: number): Cause[] {
    return this.views.causes(incident, now);
  }

  /** Open incidents and those active within `recentMs`, open first, with their top cause. */
  list(limit: number, recentMs: number, now: number): { incident: Incident; top?: Cause; firing: number; total: number }[] {
    return this.o.incidents.list(limit, now - recentMs).map((incident) => {
      const counts = this.o.incidents.memberCounts(incident.id);
      const top = this.views.causes(incident, now)[0];
      return { incident, ...(top ? { top } : {}), firing: counts.firing, total: counts.total };
    });
  }

  /** The newest open (or recently active) incident of a container or node. */
  incidentOf(entities: { containers: string[]; nodes: string[] }, now: number): Incident | undefined {
    return this.o.incidents.activeFor(entities, now - this.o.windowMs).find((i) => i.status !== 'merged');
  }

  /** A container name, node name or node id, tied to its other half where the topology can. */
  resolveTarget(target: string, nodes: { id: string; name: string; givenName?: string }[]): Target {
    let t = target.replace(/^\//, '');
    // Several Docker hosts: a plain container name watched on exactly one host means that one.
    const named = resolveContainerName(t, this.topology.tailscaleNames());
    if (named.kind === 'found') t = named.name;
    if (this.topology.isTailscaleContainer(t)) {
      const n = this.topology.nodeForContainer(t);
      return n ? { container: t, node: n.node, matchedBy: n.detail } : { container: t };
    }
    const lower = t.toLowerCase();
    const node = nodes.find((n) => n.id === t) ?? nodes.find((n) => n.name.toLowerCase() === lower || n.givenName?.toLowerCase() === lower);
    if (!node) return {};
    const ref = { id: node.id, name: node.name };
    const c = this.topology.containerForNode(ref);
    return c ? { container: c.container, node: ref, matchedBy: c.detail } : { node: ref };
  }

  /**
   * Runs the Re-register playbook (the approved request is already claimed) and records it on its incident;
   * the incident message follows each step.
   */
  async reregister(deps: Omit<ReregisterDeps, 'repo'>, input: ReregisterInput): Promise<PlaybookRun> {
    let lastState = '';
    const run = await runReregister(
      {
        ...deps,
        repo: this.o.playbooks,
        onProgress: async (r) => {
          const state = r.steps.map((s) => s.state).join(',') + r.state;
          if (input.incidentId !== undefined && state !== lastState) this.o.onChanged?.(input.incidentId);
          lastState = state;
          await deps.onProgress?.(r);
        },
      },
      input,
    );
    this.noteReregister(run);
    if (input.incidentId !== undefined) {
      const how = run.state === 'done' ? `✅ Re-register #${run.id} by ${run.requestedBy} done: node online again as id ${run.newNodeId}` : `❌ Re-register #${run.id} by ${run.requestedBy} ${run.state}`;
      this.o.onChanged?.(input.incidentId, how);
    }
    return run;
  }

  /**
   * A Re-register request that was running when headwatch stopped: its run is closed (never continued, key
   * expired again) and what Headscale shows now decides what the card says.
   */
  async verifyInterrupted(deps: { headscale: HeadscaleApi; logger: Logger; clock: () => number }, container: string, nodeId: string, claimedAt: number): Promise<Verification> {
    const found = this.o.playbooks.runFor(container, nodeId, claimedAt - 60_000);
    if (!found) return { outcome: 'not-run', detail: 'no step of the Re-register playbook had started' };
    const run = await recoverRun({ ...deps, repo: this.o.playbooks }, found);
    if (run.incidentId !== undefined) this.o.onChanged?.(run.incidentId, `❔ Re-register #${run.id} was interrupted by a headwatch restart`);
    if (run.state === 'done') return { outcome: 'completed', detail: `node ${run.node.name} is online again as id ${run.newNodeId}` };
    const undone = run.undone.length ? ` (${run.undone.join('; ')})` : '';
    const back = await nodeBack(deps.headscale, run.node);
    if (back) return { outcome: 'completed', detail: `node ${run.node.name} is online again as id ${back}${undone}` };
    const started = run.steps.filter((s) => s.state !== 'pending' && s.name !== 'create-key');
    if (started.length === 0) return { outcome: 'not-run', detail: `only its key had been created${undone}` };
    const at = run.steps.find((s) => s.state === 'unknown') ?? started.at(-1)!;
    return { outcome: 'unknown', reason: `it stopped during "${at.name}" and node ${run.node.name} is not back online${undone}` };
  }

  /** Remembers a Re-register run on its incident ("resolved N min after Re-register by …"). */
  noteReregister(run: PlaybookRun): void {
    if (run.incidentId === undefined) return;
    const i = this.o.incidents.get(run.incidentId);
    if (!i) return;
    const by = run.requestedBy.replace(/ \(.*\)$/, '');
    this.o.incidents.save({ ...i, reregister: { runId: run.id, by, at: run.finishedAt ?? run.updatedAt, ok: run.state === 'done' } });
  }
}
