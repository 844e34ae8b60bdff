import { appendEvidence, fingerprint, type DetectorEvent } from '../alerts/model.js';
import type { Alert } from '../alerts/model.js';
import type { Finding, NodeSessionFinding } from '../parsers/finding.js';
import type { Detector } from './detector.js';
import { dropUpTo } from './window.js';

export interface FlappingOptions {
  /** Transitions of one node within the window that fire the alert (FLAP_COUNT). */
  count: number;
  /** FLAP_WINDOW_SECONDS in ms. */
  windowMs: number;
  /** A firing alert clears after this long without a transition (default: half the window). */
  quietMs?: number;
  /** API-seen changes are ignored this long after a log-seen event for the node: the log is more precise
   *  and the API lags (0.27+ applies a 10 s reconnect grace before marking a node offline). */
  apiDeferMs?: number;
  /** Sessions remembered per node (0.29 never logs the end of a replaced session). */
  maxSessions?: number;
  /** Told every counted transition (the daily report's flap counts); must not throw. */
  onTransitions?(nodeId: string, nodeName: string | undefined, at: number, count: number): void;
}

interface NodeState {
  id: string;
  name?: string;
  online: boolean | undefined;
  sessions: string[];
  transitions: number[];
  lastLogEventAt: number;
  evidence: string[];
  firing: boolean;
  lastUpdateAt: number;
  lastCountReported: number;
}

/** Minimum spacing of "still flapping" updates for one alert, so a storm is not a write per line. */
const UPDATE_EVERY_MS = 10_000;

/**
 * Node connect/disconnect flapping. Counts changes of a node's online state, not log lines: Headscale logs
 * one event under two messages (state and poll lines), replaced sessions end after their successor started
 * (0.23–0.26), the 0.27+ batcher logs its own connect/disconnect lines for the same session (without a
 * session id), and the API poller reports the same changes late. A change is counted from the node's online
 * state, so whichever of these lines comes first counts and the others of the same session add nothing.
 * Sessions are paired by their `chan` id,
 * and a new session while another is live counts as a drop and a reconnect (two transitions).
 */
export class FlappingDetector implements Detector {
  readonly name = 'flapping';
  private readonly nodes = new Map<string, NodeState>();
  private readonly quietMs: number;
  private readonly apiDeferMs: number;
  private readonly maxSessions: number;

  constructor(private readonly opts: FlappingOptions) {
    this.quietMs = opts.quietMs ?? Math.max(1000, Math.floor(opts.windowMs / 2));
    this.apiDeferMs = opts.apiDeferMs ?? 30_000;
    this.maxSessions = opts.maxSessions ?? 8;
  }

  /** Connect/disconnect transitions of a node inside the current window (for the `nodes` command). */
  flapsInWindow(nodeId: string, now: number): number {
    const n = this.nodes.get(nodeId);
    if (!n) return 0;
    return n.transitions.filter((t) => t > now - this.opts.windowMs).length;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind === 'map-stream-error') {
      // Not a transition, but the server's side of one: shown with the node's connect/disconnect lines.
      const known = f.nodeId !== undefined ? this.nodes.get(f.nodeId) : undefined;
      if (known && f.line) known.evidence = appendEvidence(known.evidence, f.line, 5);
      return [];
    }
    if (f.kind !== 'node-connected' && f.kind !== 'node-disconnected') return [];
    const n = this.node(f);
    if (f.via === 'api' || f.via === 'debug') {
      if (f.at - n.lastLogEventAt < this.apiDeferMs) return [];
    } else {
      n.lastLogEventAt = f.at;
    }
    const added = f.kind === 'node-connected' ? this.connect(n, f) : this.disconnect(n, f);
    if (added === 0) return [];
    for (let i = 0; i < added; i++) n.transitions.push(f.at);
    this.opts.onTransitions?.(n.id, n.name, f.at, added);
    if (f.line) n.evidence = appendEvidence(n.evidence, f.line, 5);
    return this.evaluate(n, f.at);
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const n of this.nodes.values()) {
      this.prune(n, now);
      if (n.firing) {
        const last = n.transitions[n.transitions.length - 1] ?? 0;
        if (now - last >= this.quietMs) {
          n.firing = false;
          out.push({
            action: 'resolve',
            fingerprint: fingerprint('node-flapping', n.id),
            summary: `Node ${label(n)} is stable again: no connect/disconnect for ${Math.round(this.quietMs / 1000)} s`,
          });
        }
      } else if (n.transitions.length === 0 && n.online === undefined) {
        this.nodes.delete(n.id);
      }
    }
    return out;
  }

  snapshot(): unknown {
    return { nodes: [...this.nodes.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    const saved = (state as { nodes?: NodeState[] } | undefined)?.nodes ?? [];
    for (const n of saved) this.nodes.set(n.id, { ...n });
    const firingIds = new Set(firing.filter((a) => a.kind === 'node-flapping').map((a) => a.labels.nodeId ?? a.fingerprint.slice('node-flapping:'.length)));
    for (const n of this.nodes.values()) n.firing = firingIds.has(n.id);
    // An alert stored as firing without saved detector state still has to be able to clear.
    for (const id of firingIds) {
      if (!this.nodes.has(id)) {
        this.nodes.set(id, { ...emptyNode(id), firing: true, transitions: [Date.now()] });
      }
    }
  }

  private node(f: NodeSessionFinding): NodeState {
    let n = this.nodes.get(f.nodeId);
    if (!n) {
      n = emptyNode(f.nodeId);
      this.nodes.set(f.nodeId, n);
    }
    if (f.nodeName) n.name = f.nodeName;
    return n;
  }

  private connect(n: NodeState, f: NodeSessionFinding): number {
    const s = f.session;
    if (s !== undefined && n.sessions.includes(s)) return 0; // the same connect, logged twice
    let added = 0;
    if (n.online !== true) {
      added = n.online === undefined && polled(f) ? 0 : 1; // first sight via the API is a baseline, not a change
      n.online = true;
    } else if (s !== undefined && n.sessions.length > 0) {
      added = 2; // a new session replaced a live one: the node dropped and came back
    }
    if (s !== undefined) {
      n.sessions.push(s);
      if (n.sessions.length > this.maxSessions) n.sessions.shift();
    }
    return added;
  }

  private disconnect(n: NodeState, f: NodeSessionFinding): number {
    const s = f.session;
    if (s !== undefined) {
      const i = n.sessions.indexOf(s);
      if (i >= 0) n.sessions.splice(i, 1);
      // The end of a replaced session while a newer one is live: counted when the newer one started.
      if (n.sessions.length > 0 || n.online !== true) return 0;
    }
    if (n.online === false) return 0;
    const wasKnown = n.online !== undefined;
    n.online = false;
    n.sessions = [];
    return wasKnown || !polled(f) ? 1 : 0;
  }

  private prune(n: NodeState, now: number): void {
    dropUpTo(n.transitions, now - this.opts.windowMs, (t) => t);
  }

  private evaluate(n: NodeState, now: number): DetectorEvent[] {
    this.prune(n, now);
    const count = n.transitions.length;
    if (!n.firing) {
      if (count < this.opts.count) return [];
      n.firing = true;
      n.lastUpdateAt = now;
      n.lastCountReported = count;
      return [{ action: 'fire', alert: this.draft(n, count) }];
    }
    if (now - n.lastUpdateAt < UPDATE_EVERY_MS || count === n.lastCountReported) return [];
    n.lastUpdateAt = now;
    n.lastCountReported = count;
    return [{ action: 'update', alert: this.draft(n, count) }];
  }

  private draft(n: NodeState, count: number) {
    const minutes = Math.round(this.opts.windowMs / 60_000);
    const window = minutes >= 1 ? `${minutes} min` : `${Math.round(this.opts.windowMs / 1000)} s`;
    return {
      fingerprint: fingerprint('node-flapping', n.id),
      kind: 'node-flapping' as const,
      severity: count >= this.opts.count * 3 ? ('critical' as const) : ('warning' as const),
      subject: label(n),
      summary: `Node ${label(n)} connected/disconnected ${count} times in ${window} (threshold ${this.opts.count}). Usual causes: client newer than a pinned Headscale, a proxy breaking /ts2021, or plain-HTTP Headscale with the client's forced-443 redial.`,
      evidence: n.evidence,
      labels: { nodeId: n.id, ...(n.name ? { nodeName: n.name } : {}), transitions: String(count) },
    };
  }
}

/** Node list (API) and /debug/batcher views are polled snapshots; the log says when things happened. */
function polled(f: NodeSessionFinding): boolean {
  return f.via === 'api' || f.via === 'debug';
}

function emptyNode(id: string): NodeState {
  return { id, online: undefined, sessions: [], transitions: [], lastLogEventAt: -Infinity, evidence: [], firing: false, lastUpdateAt: 0, lastCountReported: 0 };
}

function label(n: { id: string; name?: string }): string {
  return n.name && n.name !== n.id ? `${n.name} (id ${n.id})` : n.id;
}
