/**
 * Poll cost per Docker host with 3 hosts × 50 containers: headwatch's own CPU time and the wall time of one CPU
 * sampling round ("poll") per host, with every container sampled on every round through the stats API (what a
 * remote host costs: no local cgroup fast path, no idle skipping).
 *
 * The three hosts are three independent pipelines (DockerHosts: each its own client, connection, events stream,
 * discovery, log streams and sampler) to the one bench engine at DOCKER_HOST, each watching its own 50 idle
 * containers by `host/container` names. The engine's own cost is shared and not what is measured here:
 * idle-cpu measures that.
 *
 * Targets, per poll per host: wall ≤ 2 s (a round must end well within the default 10 s CPU_SAMPLE_SECONDS, or
 * the next one is skipped and samples thin out), CPU ≤ 100 ms (1 % of one core per host at one poll every 10 s,
 * the idle-overhead budget of one host).
 *
 * Run alone: `npx tsx bench/hosts-poll.ts` (DOCKER_HOST must point at an engine with the busybox test image).
 */
import { pathToFileURL } from 'node:url';
import { Metrics } from '../src/http/metrics.js';
import { createLogger } from '../src/log/logger.js';
import { DockerHosts } from '../src/sources/docker/hosts.js';
import { ensureTestImage, fixtureEngine, TEST_IMAGE } from './images.js';

export interface HostsPollResult {
  hosts: number;
  containersPerHost: number;
  polls: number;
  /** Mean wall time of one round per host, and the slowest host's mean. */
  wallMsPerPoll: number;
  slowestHostWallMs: number;
  /** This process's CPU (user + system) over the window, divided by the rounds all hosts ran. */
  cpuMsPerPoll: number;
  intervalSeconds: number;
}

export async function benchHostsPoll(opts: { hosts?: number; perHost?: number; rounds?: number; intervalSeconds?: number } = {}): Promise<HostsPollResult> {
  const hostCount = opts.hosts ?? 3;
  const perHost = opts.perHost ?? 50;
  const rounds = opts.rounds ?? 6;
  const intervalSeconds = opts.intervalSeconds ?? 5;
  const url = process.env.DOCKER_HOST;
  const { docker, host } = fixtureEngine();
  await ensureTestImage(docker, host);
  const hostNames = Array.from({ length: hostCount }, (_, i) => `h${i + 1}`);
  const names = hostNames.flatMap((h) => Array.from({ length: perHost }, (_, i) => ({ host: h, name: `hw-bench-poll-${process.pid}-${h}-${i}` })));
  const remove = () => Promise.all(names.map((n) => docker.getContainer(n.name).remove({ force: true }).catch(() => {})));
  try {
    for (let i = 0; i < names.length; i += 5) {
      await Promise.all(
        names.slice(i, i + 5).map(async (n) => {
          const c = await docker.createContainer({ name: n.name, Image: TEST_IMAGE, Cmd: ['sleep', '1d'], HostConfig: { NetworkMode: 'none' } });
          await c.start();
        }),
      );
    }
    const metrics = new Metrics({ processMetrics: false });
    const source = new DockerHosts({
      hosts: hostNames.map((name) => ({ name, ...(url ? { url } : {}) })),
      headscaleContainer: 'h1/hw-bench-no-headscale',
      tailscaleContainers: names.map((n) => `${n.host}/${n.name}`),
      cpuSampleMs: intervalSeconds * 1000,
      cpuVia: 'api',
      idleSampleEvery: 1,
      logger: createLogger('warn'),
      metrics,
      onLine: () => {},
      onSkipped: () => {},
      onFinding: () => {},
      onStatus: () => {},
    });
    try {
      await source.start();
      if (source.watched().length !== names.length) throw new Error(`watching ${source.watched().length} of ${names.length} containers`);
      // Attach and the first readings are start-up, not the steady poll.
      await sleep(intervalSeconds * 1000 + 2_000);
      const before = await pollStats(metrics);
      const cpu0 = process.cpuUsage();
      await sleep(rounds * intervalSeconds * 1000);
      const cpu = process.cpuUsage(cpu0);
      const after = await pollStats(metrics);
      const perHostMean = hostNames.map((h) => {
        const count = (after.get(h)?.count ?? 0) - (before.get(h)?.count ?? 0);
        const sum = (after.get(h)?.sum ?? 0) - (before.get(h)?.sum ?? 0);
        return { count, meanMs: count > 0 ? (sum / count) * 1000 : NaN };
      });
      const polls = perHostMean.reduce((a, h) => a + h.count, 0);
      if (polls === 0) throw new Error('no CPU poll completed in the window');
      return {
        hosts: hostCount,
        containersPerHost: perHost,
        polls,
        wallMsPerPoll: round(perHostMean.reduce((a, h) => a + h.meanMs * h.count, 0) / polls),
        slowestHostWallMs: round(Math.max(...perHostMean.map((h) => h.meanMs))),
        cpuMsPerPoll: round((cpu.user + cpu.system) / 1000 / polls),
        intervalSeconds,
      };
    } finally {
      await source.stop();
    }
  } finally {
    await remove();
  }
}

async function pollStats(metrics: Metrics): Promise<Map<string, { sum: number; count: number }>> {
  const out = new Map<string, { sum: number; count: number }>();
  for (const v of (await metrics.cpuPollSeconds.get()).values) {
    const host = String(v.labels.host);
    const e = out.get(host) ?? { sum: 0, count: 0 };
    if (v.metricName === 'headwatch_docker_cpu_poll_seconds_sum') e.sum = v.value;
    if (v.metricName === 'headwatch_docker_cpu_poll_seconds_count') e.count = v.value;
    out.set(host, e);
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number) => Math.round(n * 10) / 10;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(JSON.stringify(await benchHostsPoll(), null, 2));
}
