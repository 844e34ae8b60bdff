import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Alert, AlertTransition } from '../../src/alerts/model.js';
import type { ContainerFacts } from '../../src/sources/docker/facts.js';
import { Topology, type TopologySource } from '../../src/incidents/topology.js';
import { Store } from '../../src/store/db.js';
import { storeTarget } from '../support/postgres.js';

/** A stored-alert shape as the lifecycle hands it on; only what a test sets differs from the defaults. */
export function alert(partial: Partial<Alert> & Pick<Alert, 'kind' | 'subject'>, at = 1_000_000): Alert {
  const iso = new Date(at).toISOString();
  return {
    fingerprint: `${partial.kind}:${partial.subject}`,
    severity: 'warning',
    summary: `${partial.kind} on ${partial.subject}`,
    evidence: [],
    labels: {},
    status: 'firing',
    startsAt: iso,
    updatedAt: iso,
    endsAt: null,
    occurrences: 1,
    ...partial,
  };
}

export function fired(a: Alert, at: number): AlertTransition {
  return { change: 'firing', alert: a, at };
}

export function resolved(a: Alert, at: number): AlertTransition {
  return { change: 'resolved', alert: { ...a, status: 'resolved', endsAt: new Date(at).toISOString() }, at };
}

export function facts(name: string, extra: Partial<ContainerFacts> = {}): ContainerFacts {
  return { name, image: 'tailscale/tailscale:v1.84.0', authKeySet: false, restartCount: 0, ...extra };
}

export class World implements TopologySource {
  headscaleContainer = 'headscale';
  list: ContainerFacts[] = [];
  polled: { id: string; name: string; givenName?: string }[] = [];
  versions: Record<string, string> = {};
  containers() {
    return this.list;
  }
  nodes() {
    return this.polled;
  }
  clientVersion(c: string) {
    return this.versions[c];
  }
  topology(map?: Map<string, string>) {
    return new Topology(this, map);
  }
}

export function tempStore(): Store {
  return new Store(storeTarget(join(mkdtempSync(join(tmpdir(), 'hw-inc-')), 'hw.db')));
}
