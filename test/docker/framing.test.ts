import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupCpu, hostCpu } from '../../src/sources/docker/cgroup.js';
import { cpuLimit, cpuPercent, readingFromStats } from '../../src/sources/docker/cpu.js';
import { FrameDemuxer } from '../../src/sources/docker/frames.js';
import { LogCursor, LogFollower, parseLogTimestamp, sinceParam } from '../../src/sources/docker/logs.js';

/** Pure parts of the Docker source: framing, timestamps, resume cursor, CPU arithmetic, cgroup discovery. */

function frame(type: 1 | 2, text: string): Buffer {
  const payload = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

describe('FrameDemuxer', () => {
  it('splits stdout and stderr frames even when headers and payloads straddle chunks', () => {
    const got: [string, string][] = [];
    const d = new FrameDemuxer((t, p) => got.push([t, p.toString()]));
    const bytes = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    for (let i = 0; i < bytes.length; i += 3) d.push(bytes.subarray(i, i + 3)); // 3-byte chunks
    expect(got).toEqual([
      ['stdout', 'out one\n'],
      ['stderr', 'err one\n'],
      ['stdout', 'out two\n'],
    ]);
  });

  it('passes a stream that is not multiplexed through as stdout', () => {
    const got: string[] = [];
    const d = new FrameDemuxer((_t, p) => got.push(p.toString()));
    d.push(Buffer.from('plain text that is not a frame\n'));
    d.push(Buffer.from('more\n'));
    expect(got.join('')).toBe('plain text that is not a frame\nmore\n');
  });
});

describe('log timestamps and the resume cursor', () => {
  it('parses RFC 3339 nano timestamps exactly and renders the since parameter', () => {
    const ns = parseLogTimestamp('2026-11-26T09:50:10.795432285Z')!;
    expect(ns).toBe(BigInt(Date.parse('2026-11-26T09:50:10Z') / 1000) * 1_000_000_000n + 795_432_285n);
    expect(sinceParam(ns)).toBe(`${Date.parse('2026-11-26T09:50:10Z') / 1000}.795432285`);
    expect(parseLogTimestamp('2026-11-26T09:50:10Z')).toBe(BigInt(Date.parse('2026-11-26T09:50:10Z') / 1000) * 1_000_000_000n);
    expect(parseLogTimestamp('2026-11-26T10:50:10.5+01:00')).toBe(parseLogTimestamp('2026-11-26T09:50:10.500000000Z'));
    expect(parseLogTimestamp('not-a-time')).toBeUndefined();
    expect(sinceParam(5n)).toBe('0.000000005');
  });

  it('skips on resume exactly the messages of the boundary nanosecond already delivered', () => {
    const c = new LogCursor(100n);
    expect([c.accept(100n), c.accept(100n), c.accept(105n), c.accept(105n)]).toEqual([true, true, true, true]);
    // The engine's `since` is inclusive: a re-attach at 105 replays both 105 messages, then new ones.
    c.resume();
    expect([c.accept(105n), c.accept(105n), c.accept(105n), c.accept(107n)]).toEqual([false, false, true, true]);
    c.resume();
    expect([c.accept(106n), c.accept(107n), c.accept(108n)]).toEqual([false, false, true]);
  });
});

describe('LogFollower framing (fed through a stream, as dockerode hands it over)', () => {
  function follower(tty: boolean, startNs = 0n) {
    const stream = new PassThrough();
    const lines: string[] = [];
    const container = { logs: async () => stream } as unknown as Docker.Container;
    const f = new LogFollower({ container, tty, startNs, onLine: (l, s) => lines.push(`${s}:${l}`), onSkipped: () => {}, onEnd: () => {} });
    return { f, stream, lines };
  }
  const T1 = '2026-11-26T09:50:10.000000001Z';
  const T2 = '2026-11-26T09:50:10.000000002Z';

  it('strips the timestamp of every multiplexed message and rejoins a line split into parts', async () => {
    const { f, stream, lines } = follower(false);
    await f.attach();
    // A line longer than the engine's buffer arrives as two messages, each with its own timestamp.
    stream.write(Buffer.concat([frame(1, `${T1} first half `), frame(1, `${T2} second half\n`), frame(2, `${T2} on stderr\n`)]));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:first half second half', 'stderr:on stderr']);
  });

  it('strips timestamps from a raw TTY stream split at awkward places', async () => {
    const { f, stream, lines } = follower(true);
    await f.attach();
    const raw = `${T1} tty one\r\n${T2} tty two\r\n`;
    for (const piece of [raw.slice(0, 5), raw.slice(5, 33), raw.slice(33, 40), raw.slice(40)]) stream.write(piece);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:tty one', 'stdout:tty two']);
  });
});

describe('CPU arithmetic', () => {
  const stats = (total: number, system: number, online = 2) => ({ read: '2026-11-26T09:50:10Z', cpu_stats: { cpu_usage: { total_usage: total }, system_cpu_usage: system, online_cpus: online } });

  it('computes percent of one core like docker stats, and of the limit when one is set', () => {
    const a = readingFromStats(stats(1_000_000_000, 100_000_000_000))!;
    // 0.5 s of container CPU over 1 s of wall on 2 CPUs (system delta counts both: 2 s).
    const b = readingFromStats(stats(1_500_000_000, 102_000_000_000))!;
    expect(cpuPercent(a, b)).toEqual({ percent: 50, cpus: 2 });
    expect(cpuPercent(a, b, 0.5)).toEqual({ percent: 100, cpus: 0.5 });
    expect(cpuPercent(b, a)).toBeUndefined(); // counter went back: the container restarted
  });

  it('reads the limit from NanoCpus or CpuQuota/CpuPeriod', () => {
    expect(cpuLimit({ NanoCpus: 1_500_000_000 })).toBe(1.5);
    expect(cpuLimit({ CpuQuota: 50_000, CpuPeriod: 100_000 })).toBe(0.5);
    expect(cpuLimit({ CpuQuota: 25_000 })).toBe(0.25);
    expect(cpuLimit({ NanoCpus: 0, CpuQuota: 0 })).toBeUndefined();
  });
});

describe('CgroupCpu locality check', () => {
  const root = mkdtempSync(join(tmpdir(), 'hw-cg-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const id = 'd12f1a63bdeea5d00044476125163a0aec14b62ba1c4576747465a1371e1ac69';

  function fakeHost(name: string, cgroupFile: string) {
    const proc = join(root, name, 'proc');
    const sys = join(root, name, 'sys');
    mkdirSync(join(proc, '42'), { recursive: true });
    mkdirSync(sys, { recursive: true });
    writeFileSync(join(proc, '42', 'cgroup'), cgroupFile);
    writeFileSync(join(proc, 'stat'), 'cpu  100 0 50 800 10 0 5 7 0 0\ncpu0 50 0 25 400 5 0 2 3 0 0\ncpu1 50 0 25 400 5 0 3 4 0 0\n');
    return { proc, sys };
  }

  it('reads cpuacct.usage on cgroup v1 when the engine-reported PID is in a cgroup named with the id', () => {
    const { proc, sys } = fakeHost('v1', `4:memory:/docker/${id}\n2:cpu,cpuacct:/docker/${id}\n0::/docker/${id}\n`);
    mkdirSync(join(sys, 'cpu,cpuacct', 'docker', id), { recursive: true });
    writeFileSync(join(sys, 'cpu,cpuacct', 'docker', id, 'cpuacct.usage'), '53789376\n');
    expect(CgroupCpu.locate(42, id, sys, proc)?.usageNs()).toBe(53_789_376);
    expect(hostCpu(proc)).toEqual({ systemNs: (100 + 50 + 800 + 10 + 5) * 1e7, onlineCpus: 2 });
  });

  it('reads usage_usec on cgroup v2', () => {
    const { proc, sys } = fakeHost('v2', `0::/system.slice/docker-${id}.scope\n`);
    writeFileSync(join(sys, 'cgroup.controllers'), 'cpu memory\n');
    mkdirSync(join(sys, 'system.slice', `docker-${id}.scope`), { recursive: true });
    writeFileSync(join(sys, 'system.slice', `docker-${id}.scope`, 'cpu.stat'), 'usage_usec 1234\nuser_usec 1000\n');
    expect(CgroupCpu.locate(42, id, sys, proc)?.usageNs()).toBe(1_234_000);
  });

  it('refuses when the PID is some other process (remote engine, or headwatch in its own PID namespace)', () => {
    const { proc, sys } = fakeHost('other', '0::/user.slice/session-1.scope\n');
    expect(CgroupCpu.locate(42, id, sys, proc)).toBeUndefined();
    expect(CgroupCpu.locate(4242, id, sys, proc)).toBeUndefined();
    expect(CgroupCpu.locate(0, id, sys, proc)).toBeUndefined();
  });
});
