import type { Alert } from '../alerts/model.js';
import type { MatchVia, NodeRef } from './model.js';
import type { Topology } from './topology.js';

/**
 * Which alerts can be part of an incident, and what each is about. Kinds are strings here, not AlertKind,
 * so kinds added by other detectors (container-down, container-restart-loop) join incidents as soon as they
 * exist. User log rules (`log-rule`) join by the container they matched in.
 */
export const MEMBER_KINDS: ReadonlySet<string> = new Set([
  'node-flapping',
  'node-offline',
  'cpu-sustained',
  'ratelimit-flood',
  'version-skew',
  'unsupported-client',
  'proxy-misconfigured',
  'forced-443-loop',
  'auth-rejected',
  'tls-error',
  'map-response-storm',
  'container-down',
  'container-restart-loop',
  'control-path-errors',
  'map-stream-errors',
  'log-rule',
]);

/** Server-side problems that make every node flap: they gather the node incidents around them. */
const SERVER_CAUSE_KINDS: ReadonlySet<string> = new Set(['proxy-misconfigured', 'tls-error', 'container-down', 'container-restart-loop']);

/** Kinds whose member counts as a node in trouble when deciding that many nodes at once is a server problem. */
export const NODE_TROUBLE_KINDS: ReadonlySet<string> = new Set(['node-flapping', 'node-offline']);

export type AlertScope =
  | { kind: 'node'; node?: NodeRef; container?: string; via?: MatchVia; detail?: string }
  | { kind: 'server'; cause: boolean };

function labelledNode(a: Alert): NodeRef | undefined {
  const id = a.labels.nodeId;
  if (!id) return undefined;
  return a.labels.nodeName ? { id, name: a.labels.nodeName } : { id };
}

/** The container an alert was raised about (its subject or label), if it is one. */
function containerOf(a: Alert): string | undefined {
  if (a.labels.container) return a.labels.container;
  if (a.labels.origin && a.kind !== 'unsupported-client') return a.labels.origin;
  // version-skew from `tailscale version` is about the container it ran in (subject = container name).
  if (!a.subject.startsWith('node ') && !a.subject.startsWith('client ') && !a.subject.includes(' ')) return a.subject;
  return undefined;
}

/** What an alert concerns, with node and container tied together where the topology can. */
export function scopeOf(a: Alert, topo: Topology): AlertScope | undefined {
  if (!MEMBER_KINDS.has(a.kind)) return undefined;
  const node = labelledNode(a);
  if (node) {
    topo.noteNode(node);
    const named = node.name ? node : { id: node.id, ...(topo.nodeName(node.id) ? { name: topo.nodeName(node.id)! } : {}) };
    const m = topo.containerForNode(named);
    return m ? { kind: 'node', node: named, container: m.container, via: m.via, detail: m.detail } : { kind: 'node', node: named };
  }
  if (a.kind === 'unsupported-client') {
    const m = a.labels.clientVersion ? topo.containerForClientVersion(a.labels.clientVersion) : topo.containerForClientVersion(a.subject.replace(/^client /, ''));
    if (!m) return { kind: 'server', cause: false };
    const n = topo.nodeForContainer(m.container);
    return { kind: 'node', container: m.container, via: m.via, detail: m.detail, ...(n ? { node: n.node } : {}) };
  }
  const container = containerOf(a);
  if (container === undefined || container === 'headscale-api' || topo.isServerContainer(container)) {
    return { kind: 'server', cause: SERVER_CAUSE_KINDS.has(a.kind) };
  }
  const n = topo.nodeForContainer(container);
  return n ? { kind: 'node', container, node: n.node, via: n.via, detail: n.detail } : { kind: 'node', container };
}
