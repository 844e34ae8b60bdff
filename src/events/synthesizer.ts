import { createHash } from 'node:crypto';
import type { Finding, NodeSessionFinding } from '../parsers/finding.js';
import type { HsNode } from '../sources/headscale/types.js';
import type { TailnetEvent, TailnetEventType } from './model.js';

export interface EventSynthesizerOptions {
  /** `tailnet` field of every event. */
  tailnet: string;
  /** HEADWATCH_EVENTS_DEBOUNCE: a connect or disconnect is told only after it held this long. */
  debounceMs: number;
  /** How long before a node key's expiry `nodeKeyExpiringInOneDay` is sent (24 h, as Tailscale). */
  expiringWithinMs?: number;
}

const API_GRACE_MS = 15_000;

interface NodeState {
  id: string;
  name: string;
  user?: string;
  addresses?: string;
  /** Last connection state told (or taken as the baseline); undefined until first seen. */
  online?: boolean;
  /** A different state seen since, waiting out the debounce. */
  pending?: { online: boolean; since: number };
  /** Current log session (`chan`): a disconnect of another session is a replaced session, not the node leaving. */
  session?: string;
  /** What the newest node list said, and when. */
  api?: { online: boolean; at: number };
  /** Expiry values already told, so a restart or a repeated poll never tells them twice. */
  expiringTold?: string;
  expiredTold?: string;
}

interface Snapshot {
  nodes: NodeState[];
  policy?: { hash: string; text: string };
  baselined: boolean;
}

/**
 * Turns poller and log findings into Tailscale-style webhook events. Pure and clock-driven by the findings'
 * times (tests drive it); `snapshot()`/`restore()` keep what was already told across restarts, so a node
 * that went offline while headwatch was down is told once it is seen, and nothing is told twice.
 *
 * - nodeCreated / nodeDeleted: the poller's node-created / node-deleted.
 * - nodeKeyExpiringInOneDay / nodeKeyExpired: from each node list, once per expiry value. On the very first
 *   list (no saved state) keys that expired long ago are taken as known, not announced.
 * - policyUpdate: the ACL text changed between two polls (the first one seen is the baseline).
 * - nodeConnected / nodeDisconnected: a state change from the API or the logs that still holds after the
 *   debounce; a disconnect and reconnect within the debounce tells nothing.
 */
export class EventSynthesizer {
  private readonly nodes = new Map<string, NodeState>();
  private policy: Snapshot['policy'];
  private baselined = false;
  private readonly expiringWithinMs: number;

  constructor(private readonly o: EventSynthesizerOptions) {
    this.expiringWithinMs = o.expiringWithinMs ?? 86_400_000;
  }

  observe(f: Finding): TailnetEvent[] {
    switch (f.kind) {
      case 'node-created': {
        const n = this.node(f.nodeId, f.nodeName);
        n.user = f.user ?? n.user;
        // A new node starts disconnected: its first connect is news after the debounce.
        n.online ??= false;
        return [this.event('nodeCreated', f.at, `Node ${n.name} created`, n)];
      }
      case 'node-deleted': {
        const n = this.nodes.get(f.nodeId) ?? { id: f.nodeId, name: f.nodeName, ...(f.user ? { user: f.user } : {}) };
        this.nodes.delete(f.nodeId);
        return [this.event('nodeDeleted', f.at, `Node ${n.name} deleted`, n)];
      }
      case 'node-inventory':
        return this.inventory(f.nodes, f.at);
      case 'node-connected':
      case 'node-disconnected':
        this.session(f);
        return [];
      case 'policy':
        return this.policyChange(f.policy, f.at);
      default:
        return [];
    }
  }

  /** Connection changes whose debounce has passed by `now`. */
  tick(now: number): TailnetEvent[] {
    const out: TailnetEvent[] = [];
    for (const n of this.nodes.values()) {
      if (!n.pending || now - n.pending.since < this.o.debounceMs) continue;
      const { online, since } = n.pending;
      n.pending = undefined;
      // Headscale's own view wins over a log line it contradicts well after the change (0.27+ waits 10 s
      // before marking a node offline): a session end the log did not pair, not the node leaving.
      if (n.api && n.api.at >= since + API_GRACE_MS && n.api.online !== online) continue;
      n.online = online;
      out.push(
        this.event(online ? 'nodeConnected' : 'nodeDisconnected', since, `Node ${n.name} ${online ? 'connected' : 'disconnected'}`, n, {
          [online ? 'connectedAt' : 'disconnectedAt']: new Date(since).toISOString(),
        }),
      );
    }
    return out;
  }

  /** When the next debounce ends (for a precise wake-up), if any change is waiting. */
  nextDue(): number | undefined {
    let next: number | undefined;
    for (const n of this.nodes.values()) if (n.pending) next = Math.min(next ?? Infinity, n.pending.since + this.o.debounceMs);
    return next;
  }

  snapshot(): Snapshot {
    return { nodes: [...this.nodes.values()].map((n) => ({ ...n })), ...(this.policy ? { policy: this.policy } : {}), baselined: this.baselined };
  }

  restore(state: unknown): void {
    const s = state as Partial<Snapshot> | undefined;
    if (!s || !Array.isArray(s.nodes)) return;
    this.nodes.clear();
    for (const n of s.nodes) this.nodes.set(n.id, { ...n });
    this.policy = s.policy;
    this.baselined = s.baselined === true;
  }

  private session(f: NodeSessionFinding): void {
    const n = this.node(f.nodeId, f.nodeName);
    const online = f.kind === 'node-connected';
    if (f.session !== undefined) {
      if (online) n.session = f.session;
      else if (n.session !== undefined && f.session !== n.session) return; // the old session of a reconnected node
    }
    if (n.online === undefined) {
      // First sight (the poller's first list, or a log line before it): where the node stands, not a change.
      n.online = online;
      return;
    }
    if (online === n.online) n.pending = undefined;
    else if (n.pending?.online !== online) n.pending = { online, since: f.at };
  }

  private inventory(list: HsNode[], at: number): TailnetEvent[] {
    const out: TailnetEvent[] = [];
    const first = !this.baselined;
    this.baselined = true;
    for (const hs of list) {
      const n = this.node(hs.id, hs.givenName || hs.name || hs.id);
      if (hs.user) n.user = hs.user.name;
      n.api = { online: hs.online, at };
      n.addresses = hs.ipAddresses.join(',');
      if (hs.expiry === null) continue;
      const expiresAt = Date.parse(hs.expiry);
      if (!Number.isFinite(expiresAt)) continue;
      if (expiresAt <= at) {
        if (n.expiredTold !== hs.expiry) {
          n.expiredTold = hs.expiry;
          n.expiringTold = hs.expiry;
          // Expired before headwatch ever looked (more than a poll's worth ago): known, not news.
          if (!(first && at - expiresAt > this.expiringWithinMs)) out.push(this.event('nodeKeyExpired', at, `Node ${n.name} key expired`, n, { expiration: hs.expiry }));
        }
      } else if (expiresAt - at <= this.expiringWithinMs && n.expiringTold !== hs.expiry) {
        n.expiringTold = hs.expiry;
        out.push(this.event('nodeKeyExpiringInOneDay', at, `Node ${n.name} key expiring in less than a day`, n, { expiration: hs.expiry }));
      }
    }
    return out;
  }

  private policyChange(text: string, at: number): TailnetEvent[] {
    const hash = createHash('sha256').update(text).digest('hex');
    const before = this.policy;
    this.policy = { hash, text };
    if (!before || before.hash === hash) return [];
    return [{ timestamp: new Date(at).toISOString(), version: 1, type: 'policyUpdate', tailnet: this.o.tailnet, message: 'Tailnet policy file updated', data: { newPolicy: text, oldPolicy: before.text } }];
  }

  private node(id: string, name: string | undefined): NodeState {
    let n = this.nodes.get(id);
    if (!n) this.nodes.set(id, (n = { id, name: name ?? id }));
    else if (name) n.name = name;
    return n;
  }

  private event(type: TailnetEventType, at: number, message: string, n: Pick<NodeState, 'id' | 'name' | 'user' | 'addresses'>, extra: Record<string, string> = {}): TailnetEvent {
    const data: Record<string, string> = { nodeID: n.id, deviceName: n.name };
    if (n.user) data.managedBy = n.user;
    if (n.addresses) data.addresses = n.addresses;
    return { timestamp: new Date(at).toISOString(), version: 1, type, tailnet: this.o.tailnet, message, data: { ...data, ...extra } };
  }
}
