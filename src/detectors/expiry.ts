import { fingerprint, type Alert, type AlertDraft, type DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface ExpiryOptions {
  /** Warn when a node key expires within this long (default 24 h, HEADSCALE_EXPIRY_WARN_HOURS). */
  warnMs?: number;
  /**
   * A node already expired when first seen only alerts if it expired this recently (default 24 h): a tailnet
   * full of long-dead expired nodes should not page on the first poll; `nodes` lists them anyway.
   */
  recentExpiredMs?: number;
  /** An "expiring" warning clears only when the expiry moves this far beyond the warning window (default 1 h). */
  clearMarginMs?: number;
}

interface NodeInfo {
  id: string;
  name: string;
  /** ms epoch, or null for "never". */
  expiry: number | null;
  firstSeen: number;
}

interface Snapshot {
  nodes: NodeInfo[];
  expiring: string[];
  expired: string[];
}

const HOUR = 3_600_000;

/**
 * Node key expiry from the poller's `node-inventory`: `node-expiring` (warning) when a node's key expires
 * within `warnMs`, `node-expired` (critical: the device is cut off until someone re-authenticates it) once it
 * has. Both clear when the key is renewed or expiry disabled, or the node is deleted. Time moves on `tick`
 * too, so a node expires on schedule even when the API is down.
 */
export class ExpiryDetector implements Detector {
  readonly name = 'expiry';
  private nodes = new Map<string, NodeInfo>();
  private expiring = new Set<string>();
  private expired = new Set<string>();
  private readonly warnMs: number;
  private readonly recentExpiredMs: number;
  private readonly clearMarginMs: number;

  constructor(opts: ExpiryOptions = {}) {
    this.warnMs = opts.warnMs ?? 24 * HOUR;
    this.recentExpiredMs = opts.recentExpiredMs ?? 24 * HOUR;
    this.clearMarginMs = opts.clearMarginMs ?? HOUR;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind === 'node-inventory') {
      const next = new Map<string, NodeInfo>();
      for (const n of f.nodes) {
        const parsed = n.expiry === null ? null : Date.parse(n.expiry);
        next.set(n.id, {
          id: n.id,
          name: n.givenName || n.name || n.id,
          expiry: parsed === null || Number.isNaN(parsed) ? null : parsed,
          firstSeen: this.nodes.get(n.id)?.firstSeen ?? f.at,
        });
      }
      const out: DetectorEvent[] = [];
      for (const id of this.nodes.keys()) if (!next.has(id)) out.push(...this.forget(id, 'was deleted'));
      this.nodes = next;
      return [...out, ...this.evaluate(f.at)];
    }
    if (f.kind === 'node-deleted') {
      const out = this.forget(f.nodeId, 'was deleted');
      this.nodes.delete(f.nodeId);
      return out;
    }
    return [];
  }

  tick(now: number): DetectorEvent[] {
    return this.evaluate(now);
  }

  snapshot(): Snapshot {
    return { nodes: [...this.nodes.values()], expiring: [...this.expiring], expired: [...this.expired] };
  }

  restore(state: unknown, firing: Alert[]): void {
    const s = state as Partial<Snapshot> | undefined;
    this.nodes = new Map((s?.nodes ?? []).map((n) => [n.id, n]));
    const ids = (kind: string) => firing.filter((a) => a.kind === kind).map((a) => a.labels.nodeId ?? a.fingerprint.slice(kind.length + 1));
    this.expiring = new Set(ids('node-expiring'));
    this.expired = new Set(ids('node-expired'));
  }

  private evaluate(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const n of this.nodes.values()) {
      if (n.expiry === null) {
        out.push(...this.resolve(n.id, 'expiring', `Node ${label(n)} no longer expires.`));
        out.push(...this.resolve(n.id, 'expired', `Node ${label(n)} no longer expires.`));
        continue;
      }
      const left = n.expiry - now;
      if (left <= 0) {
        const wasWarned = this.expiring.has(n.id);
        out.push(...this.resolve(n.id, 'expiring', `Node ${label(n)}'s key has now expired.`));
        if (!this.expired.has(n.id) && (wasWarned || n.expiry > n.firstSeen - this.recentExpiredMs)) {
          this.expired.add(n.id);
          out.push({ action: 'fire', alert: this.draft(n, 'expired', now) });
        }
        continue;
      }
      out.push(...this.resolve(n.id, 'expired', `Node ${label(n)} has a valid key again (expires ${iso(n.expiry)}).`));
      if (left <= this.warnMs) {
        if (!this.expiring.has(n.id)) {
          this.expiring.add(n.id);
          out.push({ action: 'fire', alert: this.draft(n, 'expiring', now) });
        }
      } else if (left > this.warnMs + this.clearMarginMs) {
        out.push(...this.resolve(n.id, 'expiring', `Node ${label(n)}'s key was renewed: it now expires ${iso(n.expiry)}.`));
      }
    }
    return out;
  }

  private forget(id: string, why: string): DetectorEvent[] {
    const n = this.nodes.get(id);
    const name = n ? label(n) : id;
    return [...this.resolve(id, 'expiring', `Node ${name} ${why}.`), ...this.resolve(id, 'expired', `Node ${name} ${why}.`)];
  }

  private resolve(id: string, which: 'expiring' | 'expired', summary: string): DetectorEvent[] {
    const set = which === 'expiring' ? this.expiring : this.expired;
    if (!set.delete(id)) return [];
    return [{ action: 'resolve', fingerprint: fingerprint(which === 'expiring' ? 'node-expiring' : 'node-expired', id), summary }];
  }

  private draft(n: NodeInfo, which: 'expiring' | 'expired', now: number): AlertDraft {
    const expiry = n.expiry ?? now;
    const summary =
      which === 'expiring'
        ? `Node ${label(n)}'s key expires in ${hours(expiry - now)} (${iso(expiry)}). After that it drops off the tailnet until it logs in again: re-authenticate it (tailscale up --force-reauth, or a new pre-auth key) or disable expiry for it.`
        : `Node ${label(n)}'s key expired at ${iso(expiry)}: the device is cut off from the tailnet until it is re-authenticated (tailscale up --force-reauth, or re-join with a new pre-auth key). Delete the node if it is gone for good.`;
    return {
      fingerprint: fingerprint(which === 'expiring' ? 'node-expiring' : 'node-expired', n.id),
      kind: which === 'expiring' ? 'node-expiring' : 'node-expired',
      severity: which === 'expiring' ? 'warning' : 'critical',
      subject: label(n),
      summary,
      evidence: [`expiry ${iso(expiry)}`],
      labels: { nodeId: n.id, nodeName: n.name, expiry: iso(expiry) },
    };
  }
}

function label(n: { id: string; name: string }): string {
  return n.name && n.name !== n.id ? `${n.name} (id ${n.id})` : n.id;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function hours(ms: number): string {
  const h = ms / HOUR;
  return h >= 1.5 ? `${Math.round(h)} h` : `${Math.max(1, Math.round(ms / 60_000))} min`;
}
