import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AlertLifecycle } from '../../src/alerts/lifecycle.js';
import type { AlertTransition } from '../../src/alerts/model.js';
import type { Detector } from '../../src/detectors/detector.js';
import { ExpiryDetector } from '../../src/detectors/expiry.js';
import { FlappingDetector } from '../../src/detectors/flapping.js';
import { InventoryDetector } from '../../src/detectors/inventory.js';
import { ReachabilityDetector } from '../../src/detectors/reachability.js';
import { SkewDetector } from '../../src/detectors/skew.js';
import type { Finding } from '../../src/parsers/finding.js';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { HeadscalePoller } from '../../src/sources/headscale/poller.js';
import { AlertRepository } from '../../src/store/alerts.js';
import { Store } from '../../src/store/db.js';
import type { FakeHeadscale } from '../fakes/headscale/index.js';

/**
 * fake Headscale → real client → poller → findings → detectors (the lead's FlappingDetector and ours) →
 * AlertLifecycle on a real SQLite file. Everything a user would see ends up in `transitions`.
 */
export class Harness {
  readonly findings: Finding[] = [];
  readonly transitions: AlertTransition[] = [];
  readonly flapping = new FlappingDetector({ count: 4, windowMs: 600_000 });
  readonly reachability = new ReachabilityDetector();
  readonly expiry = new ExpiryDetector();
  readonly inventory = new InventoryDetector();
  readonly skew = new SkewDetector();
  readonly detectors: Detector[] = [this.flapping, this.reachability, this.expiry, this.inventory, this.skew];
  readonly poller: HeadscalePoller;
  readonly client: HeadscaleClient;
  private readonly dir = mkdtempSync(path.join(tmpdir(), 'hw-poller-'));
  readonly store = new Store(path.join(this.dir, 'headwatch.db'));
  readonly lifecycle = new AlertLifecycle(new AlertRepository(this.store));

  constructor(fake: FakeHeadscale, apiKey: string, opts: { intervalMs?: number; timeoutMs?: number } = {}) {
    this.client = new HeadscaleClient({ url: fake.url, apiKey, timeoutMs: opts.timeoutMs ?? 2000 });
    this.poller = new HeadscalePoller({
      api: this.client,
      intervalMs: opts.intervalMs ?? 10_000,
      onFinding: (f) => this.feed(f),
    });
  }

  /** Feeds a finding from any source (the poller, or a test playing the log source). */
  feed(f: Finding): void {
    this.findings.push(f);
    for (const d of this.detectors) for (const e of d.observe(f)) this.apply(this.lifecycle, e, f.at);
  }

  async poll(now: number): Promise<Finding[]> {
    const out = await this.poller.pollOnce(now);
    this.tick(now);
    return out;
  }

  tick(now: number): void {
    for (const d of this.detectors) for (const e of d.tick(now)) this.apply(this.lifecycle, e, now);
  }

  private apply(l: AlertLifecycle, e: Parameters<AlertLifecycle['apply']>[0], at: number): void {
    const t = l.apply(e, at);
    if (t) this.transitions.push(t);
  }

  /** `kind:fingerprint-subject change` lines, the shape tests compare. */
  seen(): string[] {
    return this.transitions.map((t) => `${t.alert.fingerprint} ${t.change}`);
  }

  close(): void {
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sessions(findings: Finding[]): string[] {
  return findings
    .filter((f) => f.kind === 'node-connected' || f.kind === 'node-disconnected' || f.kind === 'node-created' || f.kind === 'node-deleted')
    .map((f) => `${f.kind} ${(f as { nodeId: string }).nodeId}`);
}
