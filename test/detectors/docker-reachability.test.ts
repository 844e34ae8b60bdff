import { describe, expect, it } from 'vitest';
import { DockerReachabilityDetector } from '../../src/detectors/docker-reachability.js';

const T0 = 1_800_000_000_000;
const status = (s: number, reachable: boolean) => ({ kind: 'docker-status' as const, at: T0 + s * 1000, origin: 'docker', reachable, ...(reachable ? {} : { error: 'no Docker socket at unix:///var/run/docker.sock' }) });

describe('DockerReachabilityDetector', () => {
  it('a daemon restart of a few seconds is not an alert', () => {
    const d = new DockerReachabilityDetector({ graceMs: 60_000 });
    expect(d.observe(status(0, false))).toEqual([]);
    expect(d.tick(T0 + 5_000)).toEqual([]);
    expect(d.observe(status(6, true))).toEqual([]);
    expect(d.tick(T0 + 120_000)).toEqual([]);
  });

  it('fires once after the grace period with the reason, and resolves when the engine answers', () => {
    const d = new DockerReachabilityDetector({ graceMs: 60_000 });
    d.observe(status(0, false));
    d.observe(status(10, false));
    const fired = d.tick(T0 + 61_000);
    expect(fired).toMatchObject([{ action: 'fire', alert: { kind: 'docker-unreachable', severity: 'critical' } }]);
    expect(fired[0]!.action === 'fire' && fired[0]!.alert.summary).toContain('no Docker socket');
    expect(d.tick(T0 + 70_000)).toEqual([]);
    expect(d.observe(status(90, true))).toMatchObject([{ action: 'resolve', fingerprint: 'docker-unreachable:docker' }]);
  });
});
