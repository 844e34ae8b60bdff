import { fingerprint, type Alert, type DetectorEvent } from '../alerts/model.js';
import type { Finding, NodeLifecycleFinding } from '../parsers/finding.js';
import type { Detector } from './detector.js';

export interface InventoryOptions {
  /** How long a created/deleted notice stays open before it resolves by itself (default 10 min). */
  noticeMs?: number;
}

interface Notice {
  kind: 'node-created' | 'node-deleted';
  nodeId: string;
  openedAt: number;
}

/**
 * `node-created` / `node-deleted` as `info` notices. What an operator wants is one line "node X joined" or
 * "node X was removed"; these are facts, not conditions, so there is nothing to fix. Each notice fires once
 * and resolves quietly after `noticeMs` (the resolve carries a summary but the dispatcher should not announce
 * the resolution of `info` alerts). Within that time a repeat for the same node updates the notice instead of
 * sending another, and a delete closes the node's open "created" notice.
 */
export class InventoryDetector implements Detector {
  readonly name = 'inventory';
  private open = new Map<string, Notice>();
  private readonly noticeMs: number;

  constructor(opts: InventoryOptions = {}) {
    this.noticeMs = opts.noticeMs ?? 600_000;
  }

  observe(f: Finding): DetectorEvent[] {
    if (f.kind !== 'node-created' && f.kind !== 'node-deleted') return [];
    const out: DetectorEvent[] = [];
    if (f.kind === 'node-deleted') {
      const created = fingerprint('node-created', f.nodeId);
      if (this.open.delete(created)) out.push({ action: 'resolve', fingerprint: created, summary: `Node ${label(f)} was deleted again.` });
    }
    const fp = fingerprint(f.kind, f.nodeId);
    const repeat = this.open.has(fp);
    this.open.set(fp, { kind: f.kind, nodeId: f.nodeId, openedAt: f.at });
    out.push({ action: repeat ? 'update' : 'fire', alert: this.draft(f) });
    return out;
  }

  tick(now: number): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const [fp, n] of this.open) {
      if (now - n.openedAt >= this.noticeMs) {
        this.open.delete(fp);
        out.push({ action: 'resolve', fingerprint: fp });
      }
    }
    return out;
  }

  snapshot(): unknown {
    return { open: [...this.open.entries()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    const saved = (state as { open?: [string, Notice][] } | undefined)?.open ?? [];
    this.open = new Map(saved);
    for (const a of firing) {
      if ((a.kind === 'node-created' || a.kind === 'node-deleted') && !this.open.has(a.fingerprint)) {
        this.open.set(a.fingerprint, { kind: a.kind, nodeId: a.labels.nodeId ?? '', openedAt: Date.parse(a.startsAt) || 0 });
      }
    }
    for (const fp of [...this.open.keys()]) if (!firing.some((a) => a.fingerprint === fp)) this.open.delete(fp);
  }

  private draft(f: NodeLifecycleFinding) {
    const owner = f.user ? ` (user ${f.user})` : '';
    return {
      fingerprint: fingerprint(f.kind, f.nodeId),
      kind: f.kind,
      severity: 'info' as const,
      subject: label(f),
      summary:
        f.kind === 'node-created'
          ? `Node ${label(f)}${owner} joined the tailnet.`
          : `Node ${label(f)}${owner} was removed from Headscale.`,
      evidence: [`${new Date(f.at).toISOString()} ${f.kind === 'node-created' ? 'first seen' : 'last seen'} in the Headscale node list`],
      labels: { nodeId: f.nodeId, nodeName: f.nodeName, ...(f.user ? { user: f.user } : {}) },
    };
  }
}

function label(f: { nodeId: string; nodeName: string }): string {
  return f.nodeName && f.nodeName !== f.nodeId ? `${f.nodeName} (id ${f.nodeId})` : f.nodeId;
}
