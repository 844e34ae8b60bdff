import { existsSync, readFileSync } from 'node:fs';
import type { CpuReading } from './cpu.js';

/**
 * Fast path for CPU samples when the engine is on this machine and headwatch can see the host's processes.
 *
 * Every stats request, even a one-shot one, goes through dockerd's stats collector, containerd and the shim;
 * for 50 idle containers sampled every 10 s that alone costs ~1.5–2 % of a core. Reading the container's
 * own cgroup counter costs microseconds. It is used only when locality is proven for that exact container:
 * the container's main PID (as the engine reports it) exists in our /proc and sits in a cgroup whose path
 * contains the container's 64-hex id. A remote engine, or headwatch in its own PID namespace, fails that
 * check and keeps using the API.
 */
export class CgroupCpu {
  private constructor(
    /** cpuacct.usage (ns) on cgroup v1, cpu.stat (usage_usec) on v2. */
    private readonly file: string,
    private readonly v2: boolean,
  ) {}

  static locate(pid: number | undefined, containerId: string, root = '/sys/fs/cgroup', proc = '/proc'): CgroupCpu | undefined {
    if (!pid || pid <= 0 || !/^[0-9a-f]{64}$/.test(containerId)) return undefined;
    let lines: string[];
    try {
      lines = readFileSync(`${proc}/${pid}/cgroup`, 'utf8').split('\n');
    } catch {
      return undefined;
    }
    const entries = lines
      .map((l) => /^(\d+):([^:]*):(.*)$/.exec(l))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ controllers: m[2]!.split(','), path: m[3]! }));
    const candidates: CgroupCpu[] = [];
    const v1 = entries.find((e) => e.controllers.includes('cpuacct'));
    if (v1?.path.includes(containerId)) {
      for (const dir of ['cpuacct', 'cpu,cpuacct', 'cpuacct,cpu']) candidates.push(new CgroupCpu(`${root}/${dir}${v1.path}/cpuacct.usage`, false));
    }
    const v2 = entries.find((e) => e.controllers.length === 1 && e.controllers[0] === '');
    if (!v1 && v2?.path.includes(containerId) && existsSync(`${root}/cgroup.controllers`)) {
      candidates.push(new CgroupCpu(`${root}${v2.path}/cpu.stat`, true));
    }
    return candidates.find((c) => c.usageNs() !== undefined);
  }

  /** Total CPU time of the container's cgroup in ns, or undefined once it is gone. */
  usageNs(): number | undefined {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    if (!this.v2) {
      const n = Number(text.trim());
      return Number.isFinite(n) ? n : undefined;
    }
    const m = /^usage_usec (\d+)$/m.exec(text);
    return m ? Number(m[1]) * 1000 : undefined;
  }
}

/** Clock ticks per second for /proc/stat; 100 on every mainstream Linux build. */
const USER_HZ = 100;

/**
 * Host CPU time and online CPUs the way dockerd computes `system_cpu_usage` (first seven fields of the `cpu`
 * line of /proc/stat) and `online_cpus`, so both paths give the same percentages as `docker stats`.
 */
export function hostCpu(proc = '/proc'): { systemNs: number; onlineCpus: number } | undefined {
  let text: string;
  try {
    text = readFileSync(`${proc}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  let systemNs: number | undefined;
  let online = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('cpu ')) {
      const f = line.trim().split(/\s+/).slice(1, 8).map(Number);
      systemNs = (f.reduce((a, b) => a + b, 0) * 1e9) / USER_HZ;
    } else if (/^cpu\d/.test(line)) {
      online++;
    }
  }
  return systemNs === undefined ? undefined : { systemNs, onlineCpus: Math.max(1, online) };
}

export function cgroupReading(cg: CgroupCpu, host: { systemNs: number; onlineCpus: number }, now: number): CpuReading | undefined {
  const total = cg.usageNs();
  return total === undefined ? undefined : { total, system: host.systemNs, onlineCpus: host.onlineCpus, readAt: now };
}
