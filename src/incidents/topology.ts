import type { ContainerFacts } from '../sources/docker/facts.js';
import type { MatchVia, NodeRef } from './model.js';
import { splitContainerRef } from '../sources/docker/names.js';

/**
 * Ties Headscale nodes to the Tailscale containers they run in. Tailscale registers a node under its
 * hostname (containerboot passes TS_HOSTNAME as --hostname), so a node's name is matched, in this order,
 * against HEADWATCH_NODE_MAP, the container's TS_HOSTNAME, its hostname, and its name. A tie at the same level
 * is no match: guessing wrong would put one node's alerts in another's incident.
 */
export interface TopologySource {
  /** Watched Tailscale containers with their facts. */
  containers(): ContainerFacts[];
  /** The Headscale container's name (its alerts concern the server). */
  headscaleContainer: string;
  /** Nodes from the last API poll (may be empty without an API key). */
  nodes(): { id: string; name: string; givenName?: string }[];
  /** `tailscale version` per container (for matching a rejected client version to a container). */
  clientVersion(container: string): string | undefined;
}

export interface Match {
  via: MatchVia;
  /** Shown in the message: `TS_HOSTNAME=nas-01`, `HEADWATCH_NODE_MAP ts-nas=nas-01`, … */
  detail: string;
}

/** Hostnames the way Headscale stores and compares them: lower case, anything else than a-z 0-9 - becomes -. */
export function normaliseHostname(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export class Topology {
  /** Node names seen in alerts (the log knows names before the API is polled, or without an API key). */
  private readonly seen = new Map<string, string>();

  constructor(
    private readonly source: TopologySource,
    private readonly nodeMap: Map<string, string> = new Map(),
  ) {}

  get headscaleContainer(): string {
    return this.source.headscaleContainer;
  }

  /** Remembers a node's name as an alert reported it. */
  noteNode(node: NodeRef): void {
    if (node.name) this.seen.set(node.id, node.name);
  }

  /** The node's name: from the last poll, else from alerts. */
  nodeName(id: string): string | undefined {
    const n = this.source.nodes().find((x) => x.id === id);
    return n?.name ?? this.seen.get(id);
  }

  isServerContainer(name: string): boolean {
    return name === this.source.headscaleContainer;
  }

  isTailscaleContainer(name: string): boolean {
    return this.source.containers().some((c) => c.name === name);
  }

  /** The watched Tailscale containers' names (`host/container` with several Docker hosts). */
  tailscaleNames(): string[] {
    return this.source.containers().map((c) => c.name);
  }

  facts(container: string): ContainerFacts | undefined {
    return this.source.containers().find((c) => c.name === container);
  }

  /** HEADWATCH_NODE_MAP's node for a container: by `host/container`, else by its plain name (any host). */
  private mappedNode(container: string): string | undefined {
    return this.nodeMap.get(container) ?? this.nodeMap.get(splitContainerRef(container).container);
  }

  /** The container a node runs in, and how that is known. */
  containerForNode(node: NodeRef): ({ container: string } & Match) | undefined {
    const names = this.namesOf(node);
    if (names.length === 0 && this.nodeMap.size === 0) return undefined;
    const containers = this.source.containers();
    const levels: { via: MatchVia; test: (c: ContainerFacts) => string | undefined }[] = [
      {
        via: 'node-map',
        test: (c) => {
          const target = this.mappedNode(c.name);
          if (target === undefined) return undefined;
          return target === node.id || names.includes(normaliseHostname(target)) ? `HEADWATCH_NODE_MAP ${c.name}=${target}` : undefined;
        },
      },
      { via: 'TS_HOSTNAME', test: (c) => (c.tsHostname && names.includes(normaliseHostname(c.tsHostname)) ? `TS_HOSTNAME=${c.tsHostname}` : undefined) },
      { via: 'hostname', test: (c) => (c.hostname && names.includes(normaliseHostname(c.hostname)) ? `hostname ${c.hostname}` : undefined) },
      { via: 'container-name', test: (c) => (names.includes(normaliseHostname(splitContainerRef(c.name).container)) ? `container name ${c.name}` : undefined) },
    ];
    for (const level of levels) {
      const hits = containers.flatMap((c) => {
        const detail = level.test(c);
        return detail ? [{ container: c.name, via: level.via, detail }] : [];
      });
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) return undefined;
    }
    return undefined;
  }

  /** The node a container runs, from the polled nodes and the names seen in alerts. */
  nodeForContainer(container: string): ({ node: NodeRef } & Match) | undefined {
    const c = this.facts(container);
    if (!c) return undefined;
    const mapped = this.mappedNode(container);
    const wanted = new Set([mapped, c.tsHostname, c.hostname, c.name].filter((n): n is string => !!n).map(normaliseHostname));
    const candidates = new Map<string, string>();
    for (const [id, name] of this.seen) if (wanted.has(normaliseHostname(name))) candidates.set(id, name);
    for (const n of this.source.nodes()) {
      if (wanted.has(normaliseHostname(n.name)) || (n.givenName && wanted.has(normaliseHostname(n.givenName)))) candidates.set(n.id, n.name);
    }
    if (mapped !== undefined && !candidates.has(mapped) && /^\d+$/.test(mapped)) candidates.set(mapped, this.nodeName(mapped) ?? mapped);
    const found: ({ node: NodeRef } & Match)[] = [];
    for (const [id, name] of candidates) {
      // Confirmed from the node's side, so both directions agree (and ties stay unmatched).
      const m = this.containerForNode({ id, name });
      if (m && m.container === container) found.push({ node: { id, name }, via: m.via, detail: m.detail });
    }
    // A re-registered node keeps its name under a new id: the newest id is the live one.
    found.sort((a, b) => Number(b.node.id) - Number(a.node.id));
    return found[0];
  }

  /** The one Tailscale container whose client has this minor version (a rejected client named by version). */
  containerForClientVersion(version: string): ({ container: string } & Match) | undefined {
    const minor = /^v?1\.(\d+)/.exec(version)?.[1];
    if (minor === undefined) return undefined;
    const hits = this.source.containers().filter((c) => /^v?1\.(\d+)/.exec(this.source.clientVersion(c.name) ?? '')?.[1] === minor);
    if (hits.length !== 1) return undefined;
    const c = hits[0]!;
    return { container: c.name, via: 'client-version', detail: `tailscale version ${this.source.clientVersion(c.name)} in ${c.name}` };
  }

  private namesOf(node: NodeRef): string[] {
    const out = new Set<string>();
    const add = (n: string | undefined) => {
      if (n) out.add(normaliseHostname(n));
    };
    add(node.name);
    const polled = this.source.nodes().find((x) => x.id === node.id);
    add(polled?.name);
    add(polled?.givenName);
    add(this.seen.get(node.id));
    out.delete('');
    return [...out];
  }
}
