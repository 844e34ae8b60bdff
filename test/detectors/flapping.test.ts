import { describe, expect, it } from 'vitest';
import { FlappingDetector } from '../../src/detectors/flapping.js';
import type { DetectorEvent } from '../../src/alerts/model.js';
import type { NodeSessionFinding } from '../../src/parsers/finding.js';

const T0 = 1_800_000_000_000;
const conn = (at: number, extra: Partial<NodeSessionFinding> = {}): NodeSessionFinding => ({ kind: 'node-connected', at, origin: 'headscale', nodeId: '7', nodeName: 'nas-01', via: 'poll', ...extra });
const disc = (at: number, extra: Partial<NodeSessionFinding> = {}): NodeSessionFinding => ({ kind: 'node-disconnected', at, origin: 'headscale', nodeId: '7', nodeName: 'nas-01', via: 'poll', ...extra });

function run(d: FlappingDetector, fs: NodeSessionFinding[]): DetectorEvent[] {
  return fs.flatMap((f) => d.observe(f));
}

describe('FlappingDetector', () => {
  it('fires once when one node reaches FLAP_COUNT transitions inside the window', () => {
    const d = new FlappingDetector({ count: 6, windowMs: 300_000 });
    const events = run(d, [0, 1, 2, 3, 4, 5].map((i) => (i % 2 === 0 ? conn(T0 + i * 1000, { session: `c${i}` }) : disc(T0 + i * 1000, { session: `c${i - 1}` }))));
    const fires = events.filter((e) => e.action === 'fire');
    expect(fires).toHaveLength(1);
    expect(fires[0]!.action === 'fire' && fires[0]!.alert.subject).toBe('nas-01 (id 7)');
    expect(fires[0]!.action === 'fire' && fires[0]!.alert.fingerprint).toBe('node-flapping:7');
  });

  it('stays quiet below the threshold', () => {
    const d = new FlappingDetector({ count: 6, windowMs: 300_000 });
    const events = run(d, [conn(T0, { session: 'a' }), disc(T0 + 1000, { session: 'a' }), conn(T0 + 2000, { session: 'b' }), disc(T0 + 3000, { session: 'b' }), conn(T0 + 4000, { session: 'c' })]);
    expect(events).toEqual([]);
  });

  it('counts the 0.29 state line and poll line of one connect once', () => {
    const d = new FlappingDetector({ count: 2, windowMs: 300_000 });
    const events = run(d, [conn(T0, { via: 'state', session: undefined }), conn(T0, { via: 'poll', session: '0xc0000b40e0' })]);
    expect(events).toEqual([]);
    expect(d.flapsInWindow('7', T0)).toBe(1);
  });

  it('does not treat the late disconnect of a replaced 0.26 session as the node going offline', () => {
    const d = new FlappingDetector({ count: 10, windowMs: 300_000 });
    run(d, [conn(T0, { session: 'A' }), conn(T0 + 1000, { session: 'B' }), disc(T0 + 1000, { session: 'A' })]);
    // first connect (1) + a reconnect that replaced a live session (2); the stale disconnect adds nothing
    expect(d.flapsInWindow('7', T0 + 1000)).toBe(3);
    run(d, [disc(T0 + 2000, { session: 'B' })]);
    expect(d.flapsInWindow('7', T0 + 2000)).toBe(4);
  });

  it('merges log and API views of the same node into one count and one alert', () => {
    const d = new FlappingDetector({ count: 4, windowMs: 300_000, apiDeferMs: 30_000 });
    const events = run(d, [
      conn(T0, { session: 'a' }),
      conn(T0 + 5_000, { via: 'api' }), // API agrees the node is online: no change
      disc(T0 + 10_000, { session: 'a' }),
      disc(T0 + 20_000, { via: 'api' }), // API lags behind the log: ignored
      conn(T0 + 60_000, { via: 'api' }), // API-only change once the log is quiet: counted
      disc(T0 + 100_000, { via: 'api' }),
    ]);
    expect(events.filter((e) => e.action === 'fire')).toHaveLength(1);
    expect(d.flapsInWindow('7', T0 + 100_000)).toBe(4);
  });

  it('slides the window: old transitions stop counting', () => {
    const d = new FlappingDetector({ count: 4, windowMs: 60_000 });
    run(d, [conn(T0, { session: 'a' }), disc(T0 + 1000, { session: 'a' }), conn(T0 + 2000, { session: 'b' })]);
    const later = run(d, [disc(T0 + 70_000, { session: 'b' }), conn(T0 + 71_000, { session: 'c' })]);
    expect(later).toEqual([]);
    expect(d.flapsInWindow('7', T0 + 71_000)).toBe(2);
  });

  it('clears only after a quiet period (hysteresis), not as soon as the count dips', () => {
    const d = new FlappingDetector({ count: 4, windowMs: 60_000, quietMs: 30_000 });
    run(d, [0, 1, 2, 3].map((i) => (i % 2 ? disc(T0 + i * 1000, { session: `s${i - 1}` }) : conn(T0 + i * 1000, { session: `s${i}` }))));
    expect(d.tick(T0 + 20_000)).toEqual([]);
    const cleared = d.tick(T0 + 33_001);
    expect(cleared).toHaveLength(1);
    expect(cleared[0]).toMatchObject({ action: 'resolve', fingerprint: 'node-flapping:7' });
    expect(d.tick(T0 + 40_000)).toEqual([]);
  });

  it('keeps one alert per node when many nodes flap', () => {
    const d = new FlappingDetector({ count: 2, windowMs: 60_000 });
    const events: DetectorEvent[] = [];
    for (const id of ['1', '2', '3']) events.push(...run(d, [conn(T0, { nodeId: id, session: `${id}a` }), disc(T0 + 1, { nodeId: id, session: `${id}a` })]));
    expect(events.filter((e) => e.action === 'fire').map((e) => (e.action === 'fire' ? e.alert.fingerprint : ''))).toEqual(['node-flapping:1', 'node-flapping:2', 'node-flapping:3']);
  });

  it('continues after a restart from its snapshot without firing again', () => {
    const a = new FlappingDetector({ count: 4, windowMs: 300_000 });
    const fired = run(a, [0, 1, 2, 3].map((i) => (i % 2 ? disc(T0 + i * 1000, { session: `s${i - 1}` }) : conn(T0 + i * 1000, { session: `s${i}` }))));
    expect(fired.filter((e) => e.action === 'fire')).toHaveLength(1);
    const snap = JSON.parse(JSON.stringify(a.snapshot()));
    const b = new FlappingDetector({ count: 4, windowMs: 300_000 });
    const firingAlert = { fingerprint: 'node-flapping:7', kind: 'node-flapping', labels: { nodeId: '7' } } as never;
    b.restore(snap, [firingAlert]);
    const more = run(b, [conn(T0 + 5000, { session: 's9' })]);
    expect(more.filter((e) => e.action === 'fire')).toEqual([]);
    expect(b.flapsInWindow('7', T0 + 5000)).toBe(5);
  });
});
