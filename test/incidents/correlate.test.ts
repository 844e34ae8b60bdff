import { describe, expect, it } from 'vitest';
import { Correlator } from '../../src/incidents/correlate.js';
import { IncidentRepository } from '../../src/store/incidents.js';
import { Store } from '../../src/store/db.js';
import { alert, facts, fired, resolved, tempStore, World } from './helpers.js';

const MIN = 60_000;
const T0 = 1_800_000_000_000;

function rig(opts: { serverNodes?: number; store?: Store } = {}) {
  const store = opts.store ?? tempStore();
  const repo = new IncidentRepository(store);
  const world = new World();
  world.list = [facts('ts-nas', { tsHostname: 'nas-01' })];
  const c = new Correlator({ repo, topology: world.topology(), windowMs: 10 * MIN, serverNodes: opts.serverNodes ?? 3 });
  return { store, repo, world, c };
}

const flap = (id: string, name: string) => alert({ kind: 'node-flapping', subject: `${name} (id ${id})`, fingerprint: `node-flapping:${id}`, labels: { nodeId: id, nodeName: name } });
const cpu = (c: string) => alert({ kind: 'cpu-sustained', subject: c, labels: { container: c } });
const storm = (c: string) => alert({ kind: 'ratelimit-flood', subject: c, labels: { container: c } });
const skew = (c: string) => alert({ kind: 'version-skew', subject: c, labels: { clientVersion: '1.84.0', serverVersion: '0.23.0', direction: 'ahead' } });

describe('Correlator: the seed failure is one incident', () => {
  it('puts flapping on the node and CPU, RATELIMIT and skew on its container into one incident, matched by TS_HOSTNAME', () => {
    const { c, repo } = rig();
    const a = c.handle(fired(cpu('ts-nas'), T0));
    expect(a.member).toBe(true);
    expect(a.transitions.map((t) => t.change)).toEqual(['opened']);
    const id = a.transitions[0]!.incident.id;
    for (const [i, x] of [flap('7', 'nas-01'), storm('ts-nas'), skew('ts-nas')].entries()) {
      const r = c.handle(fired(x, T0 + (i + 1) * 1000));
      expect(r.transitions.map((t) => [t.change, t.incident.id])).toEqual([['joined', id]]);
    }
    const incident = repo.get(id)!;
    expect(incident).toMatchObject({ scope: 'node', status: 'open', container: 'ts-nas', node: { id: '7', name: 'nas-01' }, matchedBy: 'TS_HOSTNAME=nas-01' });
    expect(repo.memberCounts(id)).toMatchObject({ firing: 4, total: 4 });
    expect(repo.open()).toHaveLength(1);
  });

  it('an update of a member is an update, not a join; alerts outside incidents are left alone', () => {
    const { c } = rig();
    c.handle(fired(flap('7', 'nas-01'), T0));
    const u = c.handle({ change: 'updated', alert: flap('7', 'nas-01'), at: T0 + 1000 });
    expect(u.transitions.map((t) => t.change)).toEqual(['updated']);
    expect(u.transitions[0]!.note).toBeUndefined();
    const other = c.handle(fired(alert({ kind: 'node-expiring', subject: 'laptop' }), T0));
    expect(other).toEqual({ member: false, transitions: [] });
  });

  it('resolves when the last member clears, and re-opens for an alert within the window, not after it', () => {
    const { c, repo } = rig();
    const f = flap('7', 'nas-01');
    const s = storm('ts-nas');
    const id = c.handle(fired(f, T0)).transitions[0]!.incident.id;
    c.handle(fired(s, T0 + 1000));
    expect(c.handle(resolved(f, T0 + 2 * MIN)).transitions.map((t) => t.change)).toEqual(['left']);
    const r = c.handle(resolved(s, T0 + 3 * MIN));
    expect(r.transitions.map((t) => t.change)).toEqual(['resolved']);
    expect(repo.get(id)).toMatchObject({ status: 'resolved', resolvedAt: T0 + 3 * MIN });
    // Flapping again 5 minutes later: the same incident, re-opened.
    const again = c.handle(fired(f, T0 + 8 * MIN));
    expect(again.transitions.map((t) => [t.change, t.incident.id])).toEqual([['reopened', id]]);
    c.handle(resolved(f, T0 + 9 * MIN));
    // An hour later it is a new incident.
    const later = c.handle(fired(f, T0 + 80 * MIN));
    expect(later.transitions[0]!.change).toBe('opened');
    expect(later.transitions[0]!.incident.id).not.toBe(id);
  });

  it('keeps nodes apart: two nodes are two incidents below the server threshold', () => {
    const { c, repo } = rig();
    c.handle(fired(flap('7', 'nas-01'), T0));
    c.handle(fired(flap('8', 'laptop'), T0 + 1000));
    expect(repo.open().map((i) => i.node?.id)).toEqual(['7', '8']);
  });

  it('many nodes in trouble at once become one server incident listing them; later nodes join it', () => {
    const { c, repo } = rig({ serverNodes: 3 });
    const first = c.handle(fired(flap('1', 'a'), T0)).transitions[0]!.incident.id;
    c.handle(fired(flap('2', 'b'), T0 + 1000));
    const third = c.handle(fired(flap('3', 'c'), T0 + 2000));
    const changes = third.transitions.map((t) => t.change);
    expect(changes).toContain('merged');
    expect(changes).toContain('opened');
    const server = repo.open().find((i) => i.scope === 'server')!;
    expect(repo.get(first)).toMatchObject({ status: 'merged', mergedInto: server.id });
    expect(repo.nodesOf(server.id, 10)).toEqual({ nodes: [{ id: '1', name: 'a' }, { id: '2', name: 'b' }, { id: '3', name: 'c' }], total: 3 });
    const fourth = c.handle(fired(flap('4', 'd'), T0 + 3000));
    expect(fourth.transitions.map((t) => [t.change, t.incident.id])).toEqual([['joined', server.id]]);
    // A member of a merged incident clears in the server incident.
    const left = c.handle(resolved(flap('1', 'a'), T0 + 4000));
    expect(left.transitions[0]!.incident.id).toBe(server.id);
    expect(repo.open().filter((i) => i.scope === 'node')).toHaveLength(0);
  });

  it('a server-side cause gathers the flapping nodes of the window into one server incident', () => {
    const { c, repo } = rig();
    c.handle(fired(flap('7', 'nas-01'), T0));
    const proxy = alert({ kind: 'proxy-misconfigured', subject: 'headscale', severity: 'critical', labels: { origin: 'headscale' } });
    const r = c.handle(fired(proxy, T0 + MIN));
    expect(r.transitions.map((t) => t.change)).toEqual(expect.arrayContaining(['opened', 'merged']));
    const server = repo.open()[0]!;
    expect(server.scope).toBe('server');
    expect(repo.memberCounts(server.id).total).toBe(2);
    // More flapping nodes go straight to the server incident while it is open.
    expect(c.handle(fired(flap('9', 'phone'), T0 + 2 * MIN)).transitions[0]!.incident.id).toBe(server.id);
  });

  it("Headscale's own CPU next to one node in trouble belongs to that node's incident", () => {
    const { c, repo } = rig();
    const id = c.handle(fired(flap('7', 'nas-01'), T0)).transitions[0]!.incident.id;
    expect(c.handle(fired(cpu('headscale'), T0 + 1000)).transitions[0]!.incident.id).toBe(id);
    expect(repo.open()).toHaveLength(1);
  });

  it('survives a restart: memberships and incidents are in SQLite', () => {
    const store = tempStore();
    const first = rig({ store });
    const id = first.c.handle(fired(flap('7', 'nas-01'), T0)).transitions[0]!.incident.id;
    const path = store.path;
    store.close();
    const again = rig({ store: new Store(path) });
    expect(again.c.handle(fired(cpu('ts-nas'), T0 + 1000)).transitions[0]).toMatchObject({ change: 'joined', incident: { id } });
    expect(again.c.handle(resolved(flap('7', 'nas-01'), T0 + 2000)).transitions[0]!.change).toBe('left');
  });

  it('a 300-node storm is one server incident with the nodes as member rows', () => {
    const { c, repo } = rig();
    for (let i = 0; i < 300; i++) c.handle(fired(flap(String(i + 1), `n${i + 1}`), T0 + i));
    const open = repo.open();
    expect(open).toHaveLength(1);
    expect(repo.nodesOf(open[0]!.id, 3).total).toBe(300);
  });
});
