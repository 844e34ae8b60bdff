/** The parts of a `/containers/{id}/stats` answer the CPU computation needs. */
export interface CpuReading {
  /** Container CPU time, nanoseconds (cpu_stats.cpu_usage.total_usage). */
  total: number;
  /** Host CPU time over all CPUs, nanoseconds (cpu_stats.system_cpu_usage); absent on some platforms. */
  system?: number;
  /** CPUs online on the host. */
  onlineCpus: number;
  /** When the engine read the numbers, ms since the epoch. */
  readAt: number;
}

export function readingFromStats(stats: unknown): CpuReading | undefined {
  const s = stats as {
    read?: string;
    cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  };
  const cpu = s?.cpu_stats;
  const total = cpu?.cpu_usage?.total_usage;
  if (typeof total !== 'number') return undefined;
  const readAt = s.read ? Date.parse(s.read) : NaN;
  const online = cpu?.online_cpus || cpu?.cpu_usage?.percpu_usage?.length || 1;
  return {
    total,
    system: typeof cpu?.system_cpu_usage === 'number' && cpu.system_cpu_usage > 0 ? cpu.system_cpu_usage : undefined,
    onlineCpus: online,
    readAt: Number.isNaN(readAt) ? 0 : readAt,
  };
}

/** CPUs a container may use, from its HostConfig (`--cpus` or a CFS quota); undefined when unlimited. */
export function cpuLimit(hostConfig: { NanoCpus?: number; CpuQuota?: number; CpuPeriod?: number } | undefined): number | undefined {
  if (!hostConfig) return undefined;
  if (hostConfig.NanoCpus && hostConfig.NanoCpus > 0) return hostConfig.NanoCpus / 1e9;
  if (hostConfig.CpuQuota && hostConfig.CpuQuota > 0) return hostConfig.CpuQuota / (hostConfig.CpuPeriod && hostConfig.CpuPeriod > 0 ? hostConfig.CpuPeriod : 100_000);
  return undefined;
}

/**
 * CPU use between two readings of one container, as the Docker CLI computes it:
 * (cpu_delta / system_delta) × online_cpus × 100 = percent of one core. With a limit the result is the percent
 * of that limit (a container allowed 0.5 CPU and using 0.5 core is at 100 %), and `cpus` is the limit;
 * otherwise it is the docker-stats figure and `cpus` the host's online CPUs.
 * Undefined when the pair cannot be compared (container restarted, no time passed).
 */
export function cpuPercent(prev: CpuReading, cur: CpuReading, limit?: number): { percent: number; cpus: number } | undefined {
  const cpuDelta = cur.total - prev.total;
  if (cpuDelta < 0) return undefined;
  let coreFraction: number | undefined;
  if (cur.system !== undefined && prev.system !== undefined && cur.system > prev.system) {
    coreFraction = (cpuDelta / (cur.system - prev.system)) * cur.onlineCpus;
  } else if (cur.readAt > prev.readAt) {
    // No host counter (e.g. Windows engines): relate to wall time instead.
    coreFraction = cpuDelta / ((cur.readAt - prev.readAt) * 1e6);
  }
  if (coreFraction === undefined) return undefined;
  const percentOfCore = coreFraction * 100;
  if (limit !== undefined && limit > 0) return { percent: round2(percentOfCore / limit), cpus: limit };
  return { percent: round2(percentOfCore), cpus: cur.onlineCpus };
}

function round2(n: number): number {
  return Math.round(n * 100) / 100;
}
