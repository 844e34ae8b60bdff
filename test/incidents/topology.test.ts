import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { normaliseHostname } from '../../src/incidents/topology.js';
import { facts, World } from './helpers.js';

describe('Topology: which container a node runs in', () => {
  it('matches by TS_HOSTNAME before hostname and container name, and says how', () => {
    const w = new World();
    w.list = [facts('ts-nas', { tsHostname: 'nas-01', hostname: 'a1b2c3' }), facts('nas-01')];
    const t = w.topology();
    // The container literally named nas-01 loses to the one whose TS_HOSTNAME registers that name.
    expect(t.containerForNode({ id: '7', name: 'nas-01' })).toEqual({ container: 'ts-nas', via: 'TS_HOSTNAME', detail: 'TS_HOSTNAME=nas-01' });
  });

  it('falls back to the hostname, then the container name', () => {
    const w = new World();
    w.list = [facts('sidecar', { hostname: 'printer' }), facts('laptop')];
    const t = w.topology();
    expect(t.containerForNode({ id: '3', name: 'printer' })).toMatchObject({ container: 'sidecar', via: 'hostname' });
    expect(t.containerForNode({ id: '4', name: 'Laptop' })).toMatchObject({ container: 'laptop', via: 'container-name', detail: 'container name laptop' });
  });

  it('HEADWATCH_NODE_MAP wins over everything, by node name or id', () => {
    const w = new World();
    w.list = [facts('ts-a', { tsHostname: 'nas-01' }), facts('ts-b')];
    const byName = w.topology(new Map([['ts-b', 'nas-01']]));
    expect(byName.containerForNode({ id: '7', name: 'nas-01' })).toMatchObject({ container: 'ts-b', via: 'node-map', detail: 'HEADWATCH_NODE_MAP ts-b=nas-01' });
    const byId = w.topology(new Map([['ts-b', '7']]));
    expect(byId.containerForNode({ id: '7' })).toMatchObject({ container: 'ts-b', via: 'node-map' });
  });

  it('a tie is no match rather than a guess', () => {
    const w = new World();
    w.list = [facts('ts-a', { tsHostname: 'nas' }), facts('ts-b', { tsHostname: 'NAS' })];
    expect(w.topology().containerForNode({ id: '1', name: 'nas' })).toBeUndefined();
  });

  it('finds the node of a container from polled nodes and from names seen in alerts, newest id first', () => {
    const w = new World();
    w.list = [facts('ts-nas', { tsHostname: 'nas-01' })];
    const t = w.topology();
    expect(t.nodeForContainer('ts-nas')).toBeUndefined();
    t.noteNode({ id: '7', name: 'nas-01' });
    expect(t.nodeForContainer('ts-nas')).toMatchObject({ node: { id: '7', name: 'nas-01' }, via: 'TS_HOSTNAME' });
    // Re-registered: the same hostname under a new id.
    w.polled = [{ id: '7', name: 'nas-01' }, { id: '12', name: 'nas-01', givenName: 'nas-01-x' }];
    expect(t.nodeForContainer('ts-nas')?.node.id).toBe('12');
  });

  it('ties a rejected client version to the one container running that minor', () => {
    const w = new World();
    w.list = [facts('old'), facts('new')];
    w.versions = { old: '1.74.1', new: '1.84.0' };
    expect(w.topology().containerForClientVersion('v1.74')).toMatchObject({ container: 'old', via: 'client-version' });
    w.versions.new = '1.74.0';
    expect(w.topology().containerForClientVersion('v1.74')).toBeUndefined();
  });

  it('reads HEADWATCH_NODE_MAP and refuses a malformed one naming the setting', () => {
    const map = (spec: string) => loadConfig({ dotenvPath: false, env: { HEADWATCH_NODE_MAP: spec } }).HEADWATCH_NODE_MAP ?? new Map();
    expect([...map(' ts-a = nas , /ts-b=9 ')]).toEqual([
      ['ts-a', 'nas'],
      ['ts-b', '9'],
    ]);
    expect(() => map('ts-a')).toThrow(/HEADWATCH_NODE_MAP: "ts-a" is not container=node/);
  });

  it('normalises hostnames as Headscale does', () => {
    expect(normaliseHostname(' My_NAS.local ')).toBe('my-nas-local');
  });
});
