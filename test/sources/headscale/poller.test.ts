import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Finding } from '../../../src/parsers/finding.js';
import { HeadscaleClient } from '../../../src/sources/headscale/client.js';
import { HeadscalePoller } from '../../../src/sources/headscale/poller.js';
import { startFakeHeadscale, YEAR_ONE, type FakeHeadscale, type FakeRelease } from '../../fakes/headscale/index.js';
import { Harness, sessions } from '../../headscale/harness.js';

const KEY = 'poller-test-key-abcdefghijklmnop';
const T0 = Date.UTC(2026, 6, 20, 12, 0, 0);
const S = 1000;
const H = 3_600_000;

let cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

async function setup(release: FakeRelease = '0.29', opts: { timeoutMs?: number } = {}) {
  const fake = await startFakeHeadscale({
    release,
    apiKey: KEY,
    nodes: [
      { name: 'nas-01', user: 'alice', online: true },
      { name: 'laptop', user: 'bob', online: true, expiry: YEAR_ONE },
      { name: 'phone', user: 'bob', online: true, expiry: new Date(T0 + 30 * 24 * H).toISOString() },
    ],
  });
  const h = new Harness(fake, KEY, opts);
  cleanup.push(() => fake.close(), () => h.close());
  return { fake, h };
}

describe('HeadscalePoller', () => {
  it('takes the first list as a baseline: no transitions, one inventory, the server version', async () => {
    const { h } = await setup();
    const out = await h.poll(T0);
    // Where each node stands, once; the flapping detector takes it as a baseline, not as changes.
    expect(sessions(out)).toEqual(['node-connected 1', 'node-connected 2', 'node-connected 3']);
    expect(h.flapping.flapsInWindow('1', T0)).toBe(0);
    expect(out.map((f) => f.kind)).toEqual(['server-version', 'api-status', 'node-connected', 'node-connected', 'node-connected', 'node-inventory']);
    expect(out[0]).toMatchObject({ kind: 'server-version', version: '0.29.2', origin: 'headscale-api' });
    expect(h.poller.nodes().map((n) => n.name)).toEqual(['nas-01', 'laptop', 'phone']);
    expect(h.poller.status()).toMatchObject({ reachable: true, since: T0, server: { version: '0.29.2' } });
    expect(h.seen()).toEqual([]);
  });

  it.each<FakeRelease>(['0.22', '0.26', '0.29'])('turns scripted online/offline changes into transitions and one flapping alert (%s)', async (release) => {
    const { fake, h } = await setup(release);
    await h.poll(T0);
    const script: Array<[string, boolean]> = [
      ['3', false],
      ['3', true],
      ['3', false],
      ['3', true],
      ['3', false],
    ];
    let t = T0;
    for (const [id, online] of script) {
      fake.setOnline(id, online);
      t += 10 * S;
      await h.poll(t);
    }
    await h.poll(t + 10 * S); // nothing changed
    expect(sessions(h.findings).slice(3)).toEqual([
      'node-disconnected 3',
      'node-connected 3',
      'node-disconnected 3',
      'node-connected 3',
      'node-disconnected 3',
    ]);
    const flaps = h.findings.filter((f) => f.kind === 'node-disconnected');
    expect(flaps[0]).toMatchObject({ via: 'api', origin: 'headscale-api', nodeName: 'phone', at: T0 + 10 * S });
    expect(h.seen()).toEqual(['node-flapping:3 firing', 'node-flapping:3 updated']);
    // The other nodes never changed.
    expect(h.transitions.every((tr) => tr.alert.labels.nodeId === '3')).toBe(true);
  });

  it('counts one node flapping seen by both the log and the API once', async () => {
    const { fake, h } = await setup();
    await h.poll(T0);
    let t = T0;
    for (let i = 0; i < 4; i++) {
      const online = i % 2 === 1;
      // The log source sees the change first (a disconnect ends the session the previous connect opened)…
      t += 8 * S;
      h.feed({
        kind: online ? 'node-connected' : 'node-disconnected',
        at: t,
        origin: 'headscale',
        nodeId: '3',
        nodeName: 'phone',
        session: `0xc000${online ? i : i - 1}`,
        via: 'poll',
      } satisfies Finding);
      // …and the next poll sees the same change.
      fake.setOnline('3', online);
      t += 4 * S;
      await h.poll(t);
    }
    // 1 baseline + 4 from the log + 4 from the API.
    expect(sessions(h.findings).filter((s) => s.endsWith(' 3'))).toHaveLength(9);
    const flapping = h.transitions.filter((tr) => tr.alert.kind === 'node-flapping');
    expect(flapping.map((tr) => tr.change)).toEqual(['firing']);
    expect(flapping[0]!.alert.labels.transitions).toBe('4');
    expect(h.flapping.flapsInWindow('3', t)).toBe(4);
  });

  it('reports created and deleted nodes as one-shot info notices', async () => {
    const { fake, h } = await setup();
    await h.poll(T0);
    fake.addNode({ name: 'new-box', user: 'alice', online: true });
    await h.poll(T0 + 10 * S);
    fake.removeNode('2');
    await h.poll(T0 + 20 * S);
    expect(sessions(h.findings).slice(3)).toEqual(['node-created 4', 'node-connected 4', 'node-deleted 2']);
    expect(h.seen()).toEqual(['node-created:4 firing', 'node-deleted:2 firing']);
    const created = h.transitions[0]!.alert;
    expect(created.severity).toBe('info');
    expect(created.summary).toContain('new-box');
    expect(created.summary).toContain('alice');
    h.tick(T0 + 11 * 60 * S);
    expect(h.seen().slice(2)).toEqual(['node-created:4 resolved', 'node-deleted:2 resolved']);
  });

  it('warns before a node key expires, then reports it expired, and clears when renewed', async () => {
    const { fake, h } = await setup();
    fake.state.nodes.find((n) => n.id === '1')!.expiry = new Date(T0 + 5 * H).toISOString();
    fake.addNode({ name: 'ancient', user: 'bob', online: false, expiry: '2020-01-01T00:00:00Z' });
    await h.poll(T0);
    expect(h.seen()).toEqual(['node-expiring:1 firing']);
    expect(h.transitions[0]!.alert.summary).toMatch(/nas-01.*expires in 5 h/);
    // Time passes while nothing is polled: the detector's tick moves it on.
    h.tick(T0 + 5 * H + S);
    expect(h.seen().slice(1)).toEqual(['node-expiring:1 resolved', 'node-expired:1 firing']);
    expect(h.transitions.at(-1)!.alert.severity).toBe('critical');
    await h.poll(T0 + 5 * H + 10 * S);
    expect(h.seen()).toHaveLength(3); // no repeats
    fake.state.nodes.find((n) => n.id === '1')!.expiry = new Date(T0 + 90 * 24 * H).toISOString();
    await h.poll(T0 + 6 * H);
    expect(h.seen().slice(3)).toEqual(['node-expired:1 resolved']);
    // The node expired in 2020 never alerted; year-1 and null expiry never do.
    expect(h.seen().some((s) => s.includes(':4 ') || s.includes(':2 '))).toBe(false);
  });

  it('raises one reachability alert for an outage, holds back node noise, and re-baselines silently', async () => {
    const { fake, h } = await setup('0.26', { timeoutMs: 500 });
    await h.poll(T0);
    await fake.down();
    // During the outage every node goes offline (headscale restarted and clients are reconnecting).
    for (const n of fake.state.nodes) n.online = false;
    let t = T0;
    for (let i = 0; i < 4; i++) {
      t += 10 * S;
      const out = await h.poll(t);
      expect(out.map((f) => f.kind)).toEqual(['api-status']);
      expect(h.poller.status()).toMatchObject({ reachable: false, errorCode: 'unreachable', since: T0 + 10 * S });
    }
    expect(h.seen()).toEqual(['headscale-unreachable:headscale-api firing']);
    await fake.up();
    t += 10 * S;
    await h.poll(t); // recovery: all nodes offline, taken silently
    fake.setOnline('1', true);
    fake.setOnline('2', true);
    t += 10 * S;
    await h.poll(t); // still settling: clients reconnecting is not flapping
    t += 20 * S;
    fake.setOnline('3', true);
    await h.poll(t); // settled: changes count again
    expect(sessions(h.findings).slice(3)).toEqual(['node-connected 3']);
    expect(h.seen()).toEqual(['headscale-unreachable:headscale-api firing', 'headscale-unreachable:headscale-api resolved']);
    expect(h.transitions[1]!.alert.summary).toContain('reachable again after');
    // The outage detected the server again once it was back.
    expect(fake.requestsTo('GET', '/api/v1/routes').length).toBeGreaterThanOrEqual(2);
  });

  it('fires at once for a rejected key, with an actionable message and no key in it', async () => {
    const { fake, h } = await setup('0.24');
    await h.poll(T0);
    fake.rejectKey();
    await h.poll(T0 + 10 * S);
    expect(h.seen()).toEqual(['headscale-unreachable:headscale-api firing']);
    const alert = h.transitions[0]!.alert;
    expect(alert.summary).toContain('API key');
    expect(alert.summary).toContain('HEADSCALE_API_KEY');
    expect(JSON.stringify(alert)).not.toContain(KEY);
    expect(alert.labels.errorCode).toBe('unauthorized');
    fake.rejectKey(false);
    await h.poll(T0 + 20 * S);
    expect(h.seen().at(-1)).toBe('headscale-unreachable:headscale-api resolved');
  });

  it('runs on its own with start() and stops polling after stop()', async () => {
    const fake = await startFakeHeadscale({ release: '0.29', apiKey: KEY, nodes: [{ name: 'a', user: 'u' }] });
    cleanup.push(() => fake.close());
    const seen: Finding[] = [];
    const poller = new HeadscalePoller({
      api: new HeadscaleClient({ url: fake.url, apiKey: KEY, timeoutMs: 2000 }),
      intervalMs: 20,
      onFinding: (f) => seen.push(f),
    });
    poller.start();
    await vi.waitFor(() => expect(fake.requestsTo('GET', '/api/v1/node').length).toBeGreaterThanOrEqual(3), { timeout: 5000 });
    await poller.stop();
    const count = fake.requestsTo('GET', '/api/v1/node').length;
    await new Promise((r) => setTimeout(r, 100));
    expect(fake.requestsTo('GET', '/api/v1/node').length).toBe(count);
    expect(seen.filter((f) => f.kind === 'node-inventory').length).toBe(count);
  });
});

describe('HeadscalePoller re-detects the release', () => {
  it('notices an in-place upgrade after HEADSCALE_REDETECT, and at once when asked (Headscale container started)', async () => {
    const fake = await startFakeHeadscale({ release: '0.23', apiKey: KEY, nodes: [{ name: 'nas-01', user: 'alice' }] });
    cleanup.push(() => fake.close());
    const found: Finding[] = [];
    const poller = new HeadscalePoller({ api: new HeadscaleClient({ url: fake.url, apiKey: KEY, timeoutMs: 5000 }), intervalMs: 10 * S, redetectMs: 60 * S, onFinding: (f) => found.push(f) });
    const versions = () => found.filter((f) => f.kind === 'server-version').map((f) => (f as Extract<Finding, { kind: 'server-version' }>).version);
    await poller.pollOnce(T0);
    expect(versions()).toEqual(['0.23']);
    fake.upgrade('0.29', 'v0.29.8');
    await poller.pollOnce(T0 + 10 * S);
    expect(versions()).toEqual(['0.23']);
    await poller.pollOnce(T0 + 61 * S);
    expect(versions()).toEqual(['0.23', '0.29.8']);
    // (0.23 has no /version: detected by probing, hence the bare minor.)
    // The same nodes are still there after the upgrade: no node noise.
    expect(found.filter((f) => f.kind === 'node-created' || f.kind === 'node-deleted')).toEqual([]);
    fake.upgrade('0.29', 'v0.29.9');
    poller.redetect();
    await poller.pollOnce(T0 + 70 * S);
    expect(versions()).toEqual(['0.23', '0.29.8', '0.29.9']);
    expect(poller.status().server?.release).toBe('0.29');
  });
});
