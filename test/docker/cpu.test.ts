import { expect, it } from 'vitest';
import type { CpuSampleFinding } from '../../src/parsers/finding.js';
import { describeDocker, removeContainer, uniqueName } from '../support/docker.js';
import { startHeadwatch, stopAllHeadwatch } from './app-harness.js';
import { dockerTestScope, makeSource, runContainer, waitFor, type Harness } from './helpers.js';

/**
 * Every CPU-burning Docker test lives in this one file so they run one after another: in parallel they would
 * compete for the 2 cores of a CI machine and measure each other.
 */
const { docker, name, track } = dockerTestScope(stopAllHeadwatch);

describeDocker('CPU sampling on a real engine', () => {
  it.each(['auto', 'api'] as const)('samples CPU (%s) relative to a --cpus limit, and against the host for unlimited containers', async (cpuVia) => {
    const limited = name('ts-limited');
    const unlimited = name('ts-free');
    const idle = name('ts-idle');
    const busy = ['sh', '-c', 'while :; do :; done'];
    await runContainer(docker, { name: limited, nanoCpus: 500_000_000, cmd: busy });
    await runContainer(docker, { name: idle, cmd: ['sleep', '1d'] });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [limited, unlimited, idle], cpuSampleMs: 1000, cpuVia, idleSampleEvery: 1 }));
    await h.source.start();
    const samples = (n: string) => h.findings.filter((f): f is CpuSampleFinding => f.kind === 'cpu-sample' && f.origin === n);
    const max = (n: string) => Math.max(...samples(n).map((f) => f.percent));
    await waitFor('four samples each', () => [limited, idle].every((n) => samples(n).length >= 4), 20_000);
    if (cpuVia === 'api') expect(h.logs.find((l) => /reachable at/.test(l.msg))).toMatchObject({ cpuFromCgroup: 0 });
    // 0.5 CPU allowed and all of it used: close to 100 % of the limit, never much above it. The best of a few
    // samples is used, and the lower bounds are loose, because CI machines are shared and busy neighbours steal
    // CPU (seen here: a loop getting half a core on a loaded 2-core machine).
    expect(samples(limited).every((f) => f.cpus === 0.5 && f.limit === 0.5)).toBe(true);
    expect(max(limited)).toBeGreaterThan(40);
    expect(max(limited)).toBeLessThan(130);
    expect(samples(idle).at(-1)!.percent).toBeLessThan(5);
    expect(h.source.watched().find((c) => c.name === limited)?.cpuPercent).toBe(samples(limited).at(-1)!.percent);
    const gauge = await h.metrics.containerCpu.get();
    expect(gauge.values.find((v) => v.labels.container === limited)?.value).toBeGreaterThan(0);
    const counter = await h.metrics.cpuSamples.get();
    expect(counter.values.find((v) => v.labels.container === idle)?.value).toBeGreaterThanOrEqual(3);

    // One at a time, so the two loops do not compete for the same cores.
    await removeContainer(docker, limited);
    await runContainer(docker, { name: unlimited, cmd: busy });
    await waitFor('three samples of the unlimited loop', () => samples(unlimited).length >= 3, 20_000);
    expect(samples(unlimited).at(-1)!.cpus).toBeGreaterThanOrEqual(1);
    expect(samples(unlimited).every((f) => f.limit === undefined)).toBe(true);
    expect(max(unlimited)).toBeGreaterThan(25);
    expect(max(unlimited)).toBeLessThanOrEqual(samples(unlimited).at(-1)!.cpus * 100 + 10);
  });

  it('alerts on sustained CPU of a busy "tailscale" container and resolves when the loop stops', async () => {
    const ts = uniqueName('tailscale');
    const sustain = 5;
    const { app, hook } = await startHeadwatch(
      {
        HEADSCALE_CONTAINER: uniqueName('no-headscale'),
        TAILSCALE_CONTAINERS: ts,
        CPU_SAMPLE_SECONDS: '1',
        CPU_SUSTAIN_SECONDS: String(sustain),
        // A busy loop is near 100 % alone but was seen at 28 % of a core on a heavily loaded 2-core machine; idle
        // is ~0 %. 15 % (clearing below 5 %) tells the two apart however busy the neighbours are.
        CPU_THRESHOLD_PERCENT: '15',
        CPU_CLEAR_MARGIN_PERCENT: '10',
      },
      [ts],
    );
    // Busy until /tmp/stop exists, then idle: the same container goes hot and cool again.
    await runContainer(docker, { name: ts, cmd: ['sh', '-c', 'while [ ! -f /tmp/stop ]; do :; done; exec sleep 1d'] });
    const fired = await hook
      .waitForAlert('cpu-sustained firing', (a) => a.kind === 'cpu-sustained' && a.status === 'firing', (sustain + 15) * 1000)
      .catch((err: Error) => {
        throw new Error(`${err.message}; last CPU seen: ${JSON.stringify(app.docker.watched().map((c) => [c.name, c.cpuPercent]))}`);
      });
    expect(fired).toMatchObject({ subject: ts, signatureValid: true });
    expect(fired.summary).toContain(ts);
    expect(fired.evidence.length).toBeGreaterThan(0);

    await expect(app.control.exec(ts, ['sh', '-c', ': > /tmp/stop'])).resolves.toMatchObject({ exitCode: 0 });
    const resolved = await hook.waitForAlert('cpu-sustained resolved', (a) => a.kind === 'cpu-sustained' && a.status === 'resolved', 25_000);
    expect(resolved).toMatchObject({ subject: ts, fingerprint: fired.fingerprint, signatureValid: true });
    expect(resolved.endsAt).not.toBeNull();
  });

});
