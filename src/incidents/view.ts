import type { Alert } from '../alerts/model.js';
import type { ContainerFacts } from '../sources/docker/facts.js';
import type { IncidentRepository } from '../store/incidents.js';
import type { PlaybookRepository } from '../store/playbooks.js';
import { diagnose, type DiagnosisInput } from './diagnosis.js';
import type { EvidenceLog } from './evidence.js';
import type { IncidentView } from './message.js';
import type { Cause, Incident } from './model.js';

/** What the diagnosis needs to know about the world beyond alerts; implemented by the composition root. */
export interface IncidentFacts {
  /** Facts of a watched container (Tailscale or Headscale), with its id. */
  container(name: string): (ContainerFacts & { id?: string }) | undefined;
  headscaleContainer: string;
  /** The Headscale release as last detected (API /version, startup log line). */
  serverVersion(): { version?: string; from?: string };
  /** `tailscale version` of a container, as last probed. */
  clientVersion(container: string): string | undefined;
  /**
   * May `restart` touch this container (HEADWATCH_RESTARTABLE, or the watched list)? The Restart button is only
   * offered where the command would not refuse it. Without it, any container with facts counts.
   */
  restartable?(name: string): boolean;
}

export interface IncidentViewsOptions {
  incidents: IncidentRepository;
  alerts: { get(fingerprint: string): Alert | undefined };
  playbooks: PlaybookRepository;
  facts: IncidentFacts;
  evidence: EvidenceLog;
  /** A note when a silence covers the incident (`🔕 Silenced by … until …`). */
  silencedNote?: (incident: Incident) => string | undefined;
  aheadMarginMinors?: number;
}

/** Members read per kind for a diagnosis: enough evidence, bounded for a server incident of thousands. */
const PER_KIND = 20;
const SHOWN = 8;

/** Gathers what an incident message shows: members, the diagnosis, the playbook run. Reads only. */
export class IncidentViews {
  constructor(private readonly o: IncidentViewsOptions) {}

  view(id: number, now: number): IncidentView | undefined {
    const incident = this.o.incidents.get(id);
    if (!incident) return undefined;
    const shown = this.o.incidents.members(incident.id, SHOWN).map((member) => ({ member, ...withAlert(this.o.alerts.get(member.fingerprint)) }));
    const counts = this.o.incidents.memberCounts(incident.id);
    const nodes = incident.scope === 'server' ? this.o.incidents.nodesOf(incident.id, 10) : { nodes: [], total: 0 };
    const playbook = this.o.playbooks.latestFor(incident.id);
    const container = incident.container;
    const facts = container ? this.o.facts.container(container) : undefined;
    const note = this.o.silencedNote?.(incident);
    return {
      incident,
      members: shown,
      counts,
      nodes,
      causes: this.causes(incident, now),
      ...(playbook ? { playbook } : {}),
      ...(note ? { silencedNote: note } : {}),
      canReregister: incident.scope === 'node' && !!incident.node && !!facts && container !== this.o.facts.headscaleContainer,
      canRestart: !!facts && !!container && (this.o.facts.restartable?.(container) ?? true),
      now,
    };
  }

  /** The ranked causes: from firing members while open, from all of them once resolved (what it was). */
  causes(incident: Incident, now: number): Cause[] {
    return diagnose(this.input(incident, now));
  }

  input(incident: Incident, now: number): DiagnosisInput {
    const open = incident.status === 'open';
    const at = open ? now : (incident.resolvedAt ?? incident.updatedAt);
    const members = this.o.incidents
      .membersByKind(incident.id, PER_KIND)
      .filter((m) => !open || m.status === 'firing')
      .map((m) => this.o.alerts.get(m.fingerprint))
      .filter((a): a is Alert => a !== undefined && (!open || a.status === 'firing'));
    const entities = this.o.incidents.entities(incident.id);
    const names = [...new Set([...entities.containers, ...(incident.container && incident.scope === 'node' ? [incident.container] : [])])];
    const containers = names.map((n) => this.o.facts.container(n)).filter((c): c is ContainerFacts => c !== undefined && c.name !== this.o.facts.headscaleContainer);
    const server = this.o.facts.serverVersion();
    const hs = this.o.facts.container(this.o.facts.headscaleContainer);
    const clientVersions: Record<string, string> = {};
    const starts: Record<string, number> = {};
    for (const c of containers) {
      const v = this.o.facts.clientVersion(c.name);
      if (v) clientVersions[c.name] = v;
      starts[c.name] = this.o.evidence.startsOf(c.name, at);
    }
    return {
      members,
      containers,
      server: { ...(server.version ? { version: server.version } : {}), ...(server.from ? { versionFrom: server.from } : {}), ...(hs ? { container: hs } : {}) },
      clientVersions,
      notable: this.o.evidence.recent([...containers.map((c) => c.name), this.o.facts.headscaleContainer], at),
      starts,
      ...(this.o.aheadMarginMinors !== undefined ? { aheadMarginMinors: this.o.aheadMarginMinors } : {}),
    };
  }
}

function withAlert(a: Alert | undefined): { alert?: Alert } {
  return a ? { alert: a } : {};
}
