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

describe('DockerReachabilityDetector with several hosts', () => {
  const hostStatus = (s: number, host: string, reachable: boolean) => ({
    kind: 'docker-status' as const,
    at: T0 + s * 1000,
    origin: `docker:${host}`,
    host,
    where: `${host} (tcp://127.0.0.1:2376)`,
    reachable,
    ...(reachable ? {} : { error: `connection refused by ${host} (tcp://127.0.0.1:2376)` }),
  });

  it('one host down is one alert naming it, while the others stay up; each resolves alone', () => {
    const d = new DockerReachabilityDetector({ graceMs: 45_000 });
    d.observe(hostStatus(0, 'vps', true));
    d.observe(hostStatus(0, 'nas', true));
    expect(d.observe(hostStatus(1, 'nas', false))).toEqual([]);
    const fired = d.tick(T0 + 47_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ action: 'fire', alert: { fingerprint: 'docker-unreachable:docker:nas', subject: 'docker:nas', labels: { host: 'nas' } } });
    expect(fired[0]!.action === 'fire' && fired[0]!.alert.summary).toMatch(/^Docker host nas \(tcp:\/\/127\.0\.0\.1:2376\) unreachable for 46 s: .*on nas.*other hosts still are/);
    expect(d.tick(T0 + 90_000)).toEqual([]);
    // The second host going down later is its own alert, the first still firing.
    d.observe(hostStatus(50, 'vps', false));
    expect(d.tick(T0 + 96_000)).toMatchObject([{ action: 'fire', alert: { fingerprint: 'docker-unreachable:docker:vps' } }]);
    expect(d.observe(hostStatus(100, 'nas', true))).toMatchObject([{ action: 'resolve', fingerprint: 'docker-unreachable:docker:nas' }]);
  });

  it('a restart keeps each host down-since and firing state', () => {
    const d = new DockerReachabilityDetector({ graceMs: 45_000 });
    d.observe(hostStatus(0, 'nas', false));
    const fired = d.tick(T0 + 46_000);
    const again = new DockerReachabilityDetector({ graceMs: 45_000 });
    again.restore(JSON.parse(JSON.stringify(d.snapshot())), fired.flatMap((e) => (e.action === 'fire' ? [{ ...e.alert, status: 'firing' } as never] : [])));
    expect(again.tick(T0 + 60_000)).toEqual([]);
    expect(again.observe(hostStatus(70, 'nas', true))).toMatchObject([{ action: 'resolve', summary: expect.stringContaining('after 70 s') }]);
  });
});
