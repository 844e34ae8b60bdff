import { describe, expect, it } from 'vitest';
import { cpuLimit, cpuPercent, readingFromStats } from '../../../src/sources/docker/cpu.js';

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
