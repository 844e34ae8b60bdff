import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CgroupCpu, hostCpu } from '../../../src/sources/docker/cgroup.js';

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
