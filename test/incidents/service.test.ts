import { describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/model.js';
import { incidentLine, incidentPayload } from '../../src/incidents/payload.js';
import { IncidentService } from '../../src/incidents/service.js';
import { IncidentWorld } from '../../src/incidents/world.js';
import type { ContainerFacts } from '../../src/sources/docker/facts.js';
import { IncidentRepository } from '../../src/store/incidents.js';
import { PlaybookRepository } from '../../src/store/playbooks.js';
import { facts, fired, tempStore } from './helpers.js';
import { flapping, MiniPipeline, stormLines } from './pipeline.js';

function rig() {
  const store = tempStore();
  const containers: (ContainerFacts & { id?: string })[] = [facts('ts-nas', { tsHostname: 'nas-01' }), { ...facts('headscale', { image: 'headscale/headscale:0.23.0' }), id: 'abc' }];
  const polled = [{ id: '7', name: 'nas-01', givenName: 'nas-01' }];
  const world = new IncidentWorld({ facts: (n) => containers.find((c) => c.name === n), tailscale: () => containers.filter((c) => c.name !== 'headscale') }, () => polled, 'headscale');
  const alerts = new Map<string, Alert>();
  const changed: [number, string | undefined][] = [];
  const service = new IncidentService({
    incidents: new IncidentRepository(store),
    playbooks: new PlaybookRepository(store),
    alerts: { get: (fp) => alerts.get(fp) },
    world,
    nodeMap: new Map(),
    windowMs: 600_000,
    serverNodes: 3,
    onChanged: (id, note) => changed.push([id, note]),
  });
  return { service, alerts, world, changed };
}

describe('IncidentService', () => {
  it('learns versions from findings, lists incidents with their top cause, and carries them as payload and console line', () => {
    const { service, alerts } = rig();
    const p = new MiniPipeline();
    const feed = (f: Parameters<MiniPipeline['feed']>[0]) => {
      service.observe(f);
      p.feed(f);
    };
    feed({ kind: 'server-version', at: p.at, origin: 'headscale-api', version: '0.23.0' });
    feed({ kind: 'client-version', at: p.at, origin: 'ts-nas', version: '1.84.0' });
    p.lines('headscale', 'headscale', flapping(7, 'nas-01', 4));
    p.lines('ts-nas', 'tailscale', stormLines(6), 5000);
    for (const a of p.firing()) {
      alerts.set(a.fingerprint, a);
      service.handle(fired(a, p.at));
    }
    const list = service.list(10, 86_400_000, p.at);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ firing: 3, total: 3, top: { name: 'version-skew' } });
    const view = service.view(list[0]!.incident.id, p.at)!;
    const payload = incidentPayload(view);
    expect(payload).toMatchObject({ id: 1, scope: 'node', status: 'open', subject: 'nas-01 (id 7) · ts-nas', matchedBy: 'TS_HOSTNAME=nas-01', memberCount: 3, firing: 3 });
    expect(payload.causes.map((c) => c.name)).toEqual(['version-skew', 'map-response-storm', 'headscale-too-old']);
    expect(payload.members.map((m) => m.fingerprint).sort()).toEqual(['node-flapping:7', 'ratelimit-flood:ts-nas', 'version-skew:ts-nas']);
    expect(incidentLine(view, 'opened')).toBe(
      'INCIDENT #1 OPENED [OPEN] nas-01 (id 7) · ts-nas — likely version-skew (upgrade Headscale to 0.24.3 first); 3 of 3 alerts firing',
    );
  });

  it('resolves a reregister target given as container, node name or node id', () => {
    const { service } = rig();
    const nodes = [{ id: '7', name: 'nas-01', givenName: 'nas-01' }, { id: '8', name: 'laptop', givenName: 'laptop' }];
    expect(service.resolveTarget('ts-nas', nodes)).toEqual({ container: 'ts-nas', node: { id: '7', name: 'nas-01' }, matchedBy: 'TS_HOSTNAME=nas-01' });
    expect(service.resolveTarget('NAS-01', nodes)).toEqual({ container: 'ts-nas', node: { id: '7', name: 'nas-01' }, matchedBy: 'TS_HOSTNAME=nas-01' });
    expect(service.resolveTarget('8', nodes)).toEqual({ node: { id: '8', name: 'laptop' } });
    expect(service.resolveTarget('nothing', nodes)).toEqual({});
  });

  it('a log line does not overwrite the release the API reported with a vaguer one', () => {
    const { world } = rig();
    world.observe({ kind: 'server-version', at: 1, origin: 'headscale-api', version: '0.29.8' });
    world.observe({ kind: 'server-version', at: 2, origin: 'headscale', version: 'v0.29.8' });
    expect(world.serverVersion()).toEqual({ version: '0.29.8', from: 'headscale-api' });
    world.observe({ kind: 'server-version', at: 3, origin: 'headscale', version: '0.30.0' });
    expect(world.serverVersion()).toEqual({ version: '0.30.0', from: 'headscale' });
  });
});
