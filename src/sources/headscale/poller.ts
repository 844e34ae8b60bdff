import { Repeater } from '../repeat.js';
import type { Metrics } from '../../http/metrics.js';
import type { Logger } from '../../log/logger.js';
import type { Finding } from '../../parsers/finding.js';
import { HeadscaleError, type HeadscaleApi, type HsNode, type ServerInfo } from './types.js';

export const API_ORIGIN = 'headscale-api';

export interface HeadscalePollerOptions {
  api: HeadscaleApi;
  /** HEADSCALE_POLL_SECONDS × 1000. */
  intervalMs: number;
  logger?: Logger;
  metrics?: Metrics;
  onFinding(f: Finding): void;
  /** ± fraction of the interval added at random to each wait, so several instances do not poll in step. */
  jitter?: number;
  /**
   * After the API comes back from a failure, node states are taken silently for this long: a restarted
   * Headscale sees its clients reconnect one by one, which is not every node flapping. Default 2 intervals.
   */
  settleMs?: number;
  /** Also read the ACL policy after every node list (`policy` findings, for the event webhooks). */
  watchPolicy?: boolean;
  /**
   * HEADSCALE_REDETECT: the release is detected again this often, so an in-place upgrade (same URL, same nodes)
   * is noticed without an outage in between. `redetect()` asks for it on the next poll (the Headscale container
   * started: it may be a new image).
   */
  redetectMs?: number;
  /**
   * Where the last node list is kept across restarts and leader changes (the store). With it, the first list
   * after a start is compared with the one before: a node created, deleted or flipped while no process was
   * watching (a crash, a takeover gap) is still reported.
   */
  memory?: { load(): HsNode[] | undefined; save(nodes: HsNode[]): void };
}

export interface PollerStatus {
  reachable: boolean;
  /** HeadscaleError code and message of the last failure while unreachable. */
  errorCode?: string;
  error?: string;
  /** Since when the current reachable/unreachable state holds (ms epoch); 0 before the first poll. */
  since: number;
  lastPollAt?: number;
  server?: ServerInfo;
}

/**
 * Polls the Headscale node list and reports what changed as findings:
 * - `node-connected` / `node-disconnected` (via `api`) when a node's `online` flips between two polls: the
 *   same findings the log source emits, so the flapping detector counts one state change once whichever
 *   source saw it first;
 * - `node-created` / `node-deleted` when the list gains or loses a node;
 * - `node-inventory` (the full list) after every successful poll, for the expiry detector and `nodes`;
 * - `api-status` after every poll (the reachability detector's input), `server-version` once detected.
 *
 * The first successful poll reports every node's state once (the flapping detector takes a first API-seen
 * state as a baseline, not a change).
 *
 * Inhibition: while the API fails nothing is said about nodes (there is nothing to say), and on recovery the
 * first lists are taken as the new baseline for `settleMs` so an outage never reads as every node flapping.
 * Nodes created or deleted during the outage are still reported.
 */
export class HeadscalePoller {
  private known: Map<string, HsNode> | undefined;
  /** The remembered list has been consulted (once, at the first successful poll). */
  private remembered = false;
  private savedShape = '';
  private lastList: HsNode[] = [];
  private settleUntil = -Infinity;
  private failing = false;
  private state: PollerStatus = { reachable: false, since: 0 };
  private server: ServerInfo | undefined;
  private inFlight: Promise<Finding[]> | undefined;
  private readonly settleMs: number;
  /** False once the release turned out to have no policy API. */
  private policyApi = true;
  private policyError: string | undefined;
  private detectedAt = -Infinity;
  private redetectAsked = false;

  /** Polls again an interval (± jitter) after each poll finishes. */
  private readonly repeater = new Repeater(
    () => this.pollOnce(Date.now()),
    () => Math.max(100, this.opts.intervalMs * (1 + (Math.random() * 2 - 1) * (this.opts.jitter ?? 0.1))),
  );

  constructor(private readonly opts: HeadscalePollerOptions) {
    this.settleMs = opts.settleMs ?? opts.intervalMs * 2;
  }

  start(): void {
    this.repeater.start();
  }

  async stop(): Promise<void> {
    this.repeater.stop();
    await this.inFlight?.catch(() => undefined);
  }

  /** Detect the Headscale release again on the next poll (e.g. its container was recreated). */
  redetect(): void {
    this.redetectAsked = true;
  }

  /** Last successfully polled node list (empty before the first success). */
  nodes(): HsNode[] {
    return this.lastList;
  }

  status(): PollerStatus {
    return { ...this.state, ...(this.server ? { server: this.server } : {}) };
  }

  /** One poll at `now` (tests inject the clock). Overlapping calls share the poll in flight. */
  pollOnce(now: number): Promise<Finding[]> {
    if (this.inFlight) return this.inFlight;
    const p = this.poll(now).finally(() => {
      this.inFlight = undefined;
    });
    this.inFlight = p;
    return p;
  }

  private async poll(now: number): Promise<Finding[]> {
    const out: Finding[] = [];
    const emit = (f: Finding) => {
      out.push(f);
      try {
        this.opts.onFinding(f);
      } catch (err) {
        this.opts.logger?.error({ err, kind: f.kind }, 'headscale poller: finding handler failed');
      }
    };
    let nodes: HsNode[];
    try {
      const due = this.redetectAsked || now - this.detectedAt >= (this.opts.redetectMs ?? Infinity);
      if (!this.server || this.failing || due) {
        // After an outage, a container restart or a while, the server may have been upgraded: detect again.
        const again = (this.failing || due) && this.server !== undefined && this.opts.api.refreshServerInfo;
        this.redetectAsked = false;
        const info = again ? await this.opts.api.refreshServerInfo!() : await this.opts.api.serverInfo();
        this.detectedAt = now;
        if (info.version !== this.server?.version) {
          if (this.server) this.opts.logger?.info({ from: this.server.version, to: info.version }, `Headscale is now ${info.version} (was ${this.server.version})`);
          emit({ kind: 'server-version', at: now, origin: API_ORIGIN, version: info.version });
        }
        this.server = info;
      }
      nodes = await this.opts.api.listNodes();
    } catch (err) {
      const e = err instanceof HeadscaleError ? err : new HeadscaleError('server-error', `Headscale poll failed: ${(err as Error)?.message ?? String(err)}`);
      if (!this.failing || this.state.errorCode !== e.code) {
        this.opts.logger?.warn({ code: e.code }, e.message);
      }
      if (this.state.reachable || this.state.since === 0) this.state = { reachable: false, since: now };
      this.state = { ...this.state, reachable: false, errorCode: e.code, error: e.message, lastPollAt: now };
      this.failing = true;
      this.opts.metrics?.up.set({ dependency: 'headscale' }, 0);
      emit({ kind: 'api-status', at: now, origin: API_ORIGIN, reachable: false, errorCode: e.code, error: e.message });
      return out;
    }

    const recovering = this.failing;
    if (recovering) {
      this.opts.logger?.info('Headscale API reachable again; re-baselining node states');
      this.settleUntil = now + this.settleMs;
    }
    if (!this.state.reachable) this.state = { reachable: true, since: now };
    this.state = { reachable: true, since: this.state.since, lastPollAt: now };
    this.failing = false;
    this.opts.metrics?.up.set({ dependency: 'headscale' }, 1);
    emit({ kind: 'api-status', at: now, origin: API_ORIGIN, reachable: true, ...(this.server ? { server: this.server } : {}) });

    const next = new Map(nodes.map((n) => [n.id, n]));
    if (!this.known && !this.remembered) {
      this.remembered = true;
      const before = this.opts.memory?.load();
      if (before) this.known = new Map(before.map((n) => [n.id, n]));
    }
    const prev = this.known;
    if (!prev) {
      // First list: tell the flapping detector where every node stands. It takes an API-seen first state
      // as a baseline, not a change, so the first real flip after this one counts.
      for (const n of nodes) emit(session(n.online ? 'node-connected' : 'node-disconnected', n, now));
    } else {
      const settling = now < this.settleUntil;
      for (const n of nodes) {
        const before = prev.get(n.id);
        if (!before) {
          emit({ kind: 'node-created', at: now, origin: API_ORIGIN, nodeId: n.id, nodeName: label(n), ...(n.user ? { user: n.user.name } : {}) });
          if (n.online && !settling) emit(session('node-connected', n, now));
        } else if (before.online !== n.online && !settling) {
          emit(session(n.online ? 'node-connected' : 'node-disconnected', n, now));
        }
      }
      for (const [id, before] of prev) {
        if (!next.has(id)) {
          emit({ kind: 'node-deleted', at: now, origin: API_ORIGIN, nodeId: id, nodeName: label(before), ...(before.user ? { user: before.user.name } : {}) });
        }
      }
    }
    this.known = next;
    this.lastList = nodes;
    this.remember(nodes);
    emit({ kind: 'node-inventory', at: now, origin: API_ORIGIN, nodes });
    if (this.opts.watchPolicy) await this.pollPolicy(now, emit);
    return out;
  }

  /** Saves the list when a node appeared, left or flipped (not at every poll: one write per change). */
  private remember(nodes: HsNode[]): void {
    if (!this.opts.memory) return;
    const shape = nodes.map((n) => `${n.id}:${n.online ? 1 : 0}`).join(',');
    if (shape === this.savedShape) return;
    try {
      this.opts.memory.save(nodes);
      this.savedShape = shape;
    } catch (err) {
      this.opts.logger?.warn({ err: (err as Error).message }, 'could not remember the node list');
    }
  }

  private async pollPolicy(now: number, emit: (f: Finding) => void): Promise<void> {
    if (!this.policyApi || !this.opts.api.getPolicy) return;
    try {
      const p = await this.opts.api.getPolicy();
      this.policyError = undefined;
      if (p === undefined) {
        this.policyApi = false;
        this.opts.logger?.info('this Headscale release has no policy API: policyUpdate events are not sent');
        return;
      }
      emit({ kind: 'policy', at: now, origin: API_ORIGIN, policy: p.policy, updatedAt: p.updatedAt });
    } catch (err) {
      // No policy stored yet, or a file-mode read error: nothing to compare; said once per distinct error.
      const message = (err as Error)?.message ?? String(err);
      if (message !== this.policyError) this.opts.logger?.info({ err: message }, 'could not read the ACL policy; will retry');
      this.policyError = message;
    }
  }
}

function label(n: HsNode): string {
  return n.givenName || n.name || n.id;
}

function session(kind: 'node-connected' | 'node-disconnected', n: HsNode, at: number): Finding {
  return { kind, at, origin: API_ORIGIN, nodeId: n.id, nodeName: label(n), via: 'api' };
}
