import { describe, expect, it } from 'vitest';
import { ContainerLifecycleDetector, exitText, similarContainers } from '../../src/detectors/containers.js';
import type { ContainerInventoryFinding, ContainerStateFinding } from '../../src/parsers/finding.js';

const T0 = 1_800_000_000_000;
const opts = { missingMs: 30_000, downMs: 30_000, restartCount: 4, restartWindowMs: 600_000 };
const state = (s: number, st: ContainerStateFinding['state'], extra: Partial<ContainerStateFinding> = {}): ContainerStateFinding => ({
  kind: 'container-state',
  at: T0 + s * 1000,
  origin: 'ts-a',
  state: st,
  containerId: 'c1',
  role: 'tailscale',
  ...extra,
});
const inventory = (s: number, present: string[], initial = false): ContainerInventoryFinding => ({
  kind: 'container-inventory',
  at: T0 + s * 1000,
  origin: 'docker',
  expected: [{ name: 'headscale', role: 'headscale' }],
  present: present.map((name) => ({ name, image: name.includes('headscale') ? 'headscale/headscale:0.29.8' : 'tailscale/tailscale:v1.90', state: 'running' })),
  host: 'unix:///var/run/docker.sock',
  initial,
});

describe('ContainerLifecycleDetector', () => {
  it('a compose recreate (gone for seconds) is not container-missing; a lasting absence is', () => {
    const d = new ContainerLifecycleDetector(opts);
    expect(d.observe(inventory(0, ['headscale'], true))).toEqual([]);
    d.observe({ ...state(10, 'destroy'), origin: 'headscale', role: 'headscale' });
    expect(d.tick(T0 + 15_000)).toEqual([]);
    expect(d.observe({ ...state(16, 'start'), origin: 'headscale', role: 'headscale' })).toEqual([]);
    expect(d.tick(T0 + 60_000)).toEqual([]);
    d.observe({ ...state(100, 'destroy'), origin: 'headscale', role: 'headscale' });
    expect(d.tick(T0 + 131_000)).toMatchObject([{ action: 'fire', alert: { kind: 'container-missing', subject: 'headscale', severity: 'critical' } }]);
  });

  it('starts caused by docker restart do not count towards a restart loop; policy restarts do', () => {
    const d = new ContainerLifecycleDetector(opts);
    const events = [0, 60, 120, 180].flatMap((s) => [...d.observe(state(s, 'start')), ...d.observe(state(s + 1, 'restart'))]);
    expect(events).toEqual([]);
    const policy = [300, 360, 420].flatMap((s) => [...d.observe(state(s - 2, 'die', { exitCode: 1 })), ...d.observe(state(s, 'start', { restartCount: 3, restartPolicy: 'always' }))]);
    expect(policy).toEqual([]);
    expect(d.observe(state(480, 'start', { restartCount: 4, restartPolicy: 'always', authKey: 'set-with-auth-once' }))).toMatchObject([
      { action: 'fire', alert: { kind: 'container-restart-loop', summary: expect.stringContaining('TS_AUTHKEY is set with TS_AUTH_ONCE=true') } },
    ]);
  });

  it('holds container-down back while the restart loop fires, then reports it', () => {
    const d = new ContainerLifecycleDetector({ ...opts, downMs: 10_000, restartWindowMs: 60_000 });
    for (const s of [0, 5, 10, 15]) {
      d.observe(state(s, 'start'));
      d.observe(state(s + 2, 'die', { exitCode: 1 }));
    }
    // Down since 17 s (past downMs at 27 s), held back while the loop fires: its last start was at 15 s, 30 s of quiet end it at 45 s.
    expect(d.tick(T0 + 44_000)).toEqual([]);
    const out = d.tick(T0 + 48_000);
    // The hand-over happens in the same tick, loop first.
    expect(out.map((e) => (e.action === 'resolve' ? `resolve ${e.fingerprint}` : `${e.action} ${e.alert.kind}`))).toEqual(['resolve container-restart-loop:ts-a', 'fire container-down']);
    expect(d.tick(T0 + 49_000)).toEqual([]);
  });

  it('forgets a container found by image once headwatch restarts without it', () => {
    const d = new ContainerLifecycleDetector(opts);
    d.observe(state(0, 'start'));
    d.observe(state(10, 'destroy'));
    expect(d.tick(T0 + 41_000)).toMatchObject([{ action: 'fire', alert: { kind: 'container-missing', subject: 'ts-a', severity: 'warning' } }]);
    const restarted = new ContainerLifecycleDetector(opts);
    restarted.restore(d.snapshot(), [{ kind: 'container-missing', subject: 'ts-a', fingerprint: 'container-missing:ts-a', startsAt: new Date(T0 + 41_000).toISOString() } as never]);
    expect(restarted.observe(inventory(100, ['headscale'], true))).toMatchObject([{ action: 'resolve', fingerprint: 'container-missing:ts-a', summary: expect.stringContaining('no longer watched') }]);
  });

  it('finds what the operator probably meant, and says what exit codes mean', () => {
    const present = [
      { name: 'stack-headscale-1', image: 'headscale/headscale:0.29.8', state: 'running' },
      { name: 'headscal', image: 'busybox', state: 'exited' },
      { name: 'vpn', image: 'juanfont/headscale', state: 'running' },
      { name: 'db', image: 'postgres:16', state: 'running' },
    ];
    expect(similarContainers('headscale', 'headscale', present).map((c) => c.name)).toEqual(['stack-headscale-1', 'headscal', 'vpn']);
    expect(exitText(137, true)).toMatch(/OOM killer/);
    expect(exitText(143, false)).toMatch(/SIGTERM/);
    expect(exitText(0, false)).toMatch(/stopped cleanly/);
    expect(exitText(3, false)).toBe('exited with code 3');
  });

  it('gives a container its restart policy will bring back the engine\'s longest back-off before calling it down, unless it was stopped on purpose', () => {
    const d = new ContainerLifecycleDetector(opts);
    d.observe(state(0, 'start', { restartPolicy: 'always' }));
    d.observe(state(10, 'die', { exitCode: 1, restartPolicy: 'always' }));
    expect(d.tick(T0 + 45_000)).toEqual([]);
    expect(d.tick(T0 + 76_000)).toMatchObject([{ action: 'fire', alert: { kind: 'container-down', summary: expect.stringContaining('Its restart policy (always) has not brought it back') } }]);
    const stopped = new ContainerLifecycleDetector(opts);
    stopped.observe(state(0, 'start', { restartPolicy: 'always' }));
    stopped.observe(state(10, 'die', { exitCode: 143, restartPolicy: 'always' }));
    stopped.observe(state(10, 'stop'));
    expect(stopped.tick(T0 + 41_000)).toMatchObject([{ action: 'fire', alert: { kind: 'container-down', summary: expect.stringMatching(/was stopped \(exit code 143, SIGTERM\).*stopped on purpose/) } }]);
  });
});

describe('ContainerLifecycleDetector with several Docker hosts', () => {
  const hosts = ['vps', 'nas'];
  const hostInventory = (s: number, host: string, present: string[], initial = false): ContainerInventoryFinding => ({
    ...inventory(s, present.map((n) => `${host}/${n}`), initial),
    expected: [],
    host: `tcp://${host}:2376`,
    hostName: host,
    anyHost: { expected: [{ name: 'headscale', role: 'headscale' }], hosts },
  });

  it('a name given without a host is missing only when no host has it, and found again on any host', () => {
    const d = new ContainerLifecycleDetector(opts);
    // One host listed, without it: the other host may have it, so nothing is decided yet.
    expect(d.observe(hostInventory(0, 'vps', ['ts-a'], true))).toEqual([]);
    expect(d.tick(T0 + 60_000)).toEqual([]);
    // Every host listed, none has it: missing after missingMs, naming every host and what looks like it.
    expect(d.observe(hostInventory(61, 'nas', ['headscale-old'], true))).toEqual([]);
    expect(d.tick(T0 + 80_000)).toEqual([]);
    const fired = d.tick(T0 + 92_000);
    expect(fired).toMatchObject([{ action: 'fire', alert: { kind: 'container-missing', subject: 'headscale', severity: 'critical' } }]);
    const alert = (fired[0] as { alert: { summary: string } }).alert;
    expect(alert.summary).toContain('No container named "headscale" on any Docker host (vps, nas)');
    expect(alert.summary).toContain('"nas/headscale-old"');
    // It starts on the NAS: found, whichever host it is on.
    expect(d.observe({ ...state(100, 'start'), origin: 'nas/headscale', role: 'headscale' })).toMatchObject([
      { action: 'resolve', fingerprint: 'container-missing:headscale', summary: expect.stringContaining('nas/headscale exists') },
    ]);
  });

  it('moving the container to another host is not container-missing; removing it from every host is', () => {
    const d = new ContainerLifecycleDetector(opts);
    d.observe(hostInventory(0, 'vps', ['headscale'], true));
    d.observe(hostInventory(0, 'nas', [], true));
    d.observe({ ...state(1, 'start', { initial: true }), origin: 'vps/headscale', role: 'headscale' });
    // Removed from the VPS, started on the NAS 10 s later (less than missingMs): the name was on no host only briefly…
    d.observe({ ...state(10, 'destroy'), origin: 'vps/headscale', role: 'headscale' });
    d.observe({ ...state(20, 'start'), origin: 'nas/headscale', role: 'headscale' });
    expect(d.tick(T0 + 120_000)).toEqual([]);
    // …and the removed vps/headscale is not missed on its own host either. Then it goes from the NAS too.
    d.observe({ ...state(200, 'destroy'), origin: 'nas/headscale', role: 'headscale' });
    expect(d.tick(T0 + 220_000)).toEqual([]);
    expect(d.tick(T0 + 231_000)).toMatchObject([{ action: 'fire', alert: { subject: 'headscale', kind: 'container-missing' } }]);
  });
});
