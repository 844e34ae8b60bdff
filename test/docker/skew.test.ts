import Docker from 'dockerode';
import pino from 'pino';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { SkewDetector } from '../../src/detectors/skew.js';
import { Metrics } from '../../src/http/metrics.js';
import type { DetectorEvent } from '../../src/alerts/model.js';
import type { Finding } from '../../src/parsers/finding.js';
import { DockerSource } from '../../src/sources/docker/source.js';
import { DockerControl } from '../../src/actions/docker-control.js';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { HeadscalePoller } from '../../src/sources/headscale/poller.js';
import { VersionProbe } from '../../src/sources/headscale/version-probe.js';
import { startFakeHeadscale, type FakeHeadscale } from '../fakes/headscale/index.js';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName, testDocker } from '../support/docker.js';

/**
 * End to end: a real container whose `tailscale` executable reports 1.74.0, a fake Headscale 0.29 (minimum
 * client v1.80), the real Docker source running `tailscale version` by argv, and the skew detector.
 */
describeDocker('version skew with a real container', () => {
  const docker = testDocker();
  const name = uniqueName('hw-skew-ts');
  const KEY = 'docker-skew-key-0123456789abcdef';
  let fake: FakeHeadscale;
  let source: DockerSource;
  let control: DockerControl;

  beforeAll(async () => {
    // /bin/tailscale becomes a real executable printing what `tailscale version` prints (tailscale.md §6.1).
    const script = '#!/bin/sh\\necho 1.74.0\\necho "  tailscale commit: 0123abcd"\\necho "  go version: go1.23.1"\\n';
    const container = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', `printf '${script}' > /bin/tailscale && busybox chmod 755 /bin/tailscale && exec sleep 600`],
      HostConfig: { NetworkMode: 'none', AutoRemove: false },
    });
    await container.start();
    fake = await startFakeHeadscale({ release: '0.29', apiKey: KEY, nodes: [{ name: 'nas', user: 'alice' }] });
    source = new DockerSource({
      headscaleContainer: uniqueName('hw-absent-headscale'),
      tailscaleContainers: [name],
      cpuSampleMs: 60_000,
      logger: pino({ level: 'silent' }),
      metrics: new Metrics({ processMetrics: false }),
      onLine: () => undefined,
      onSkipped: () => undefined,
      onFinding: () => undefined,
      onStatus: () => undefined,
    });
    control = new DockerControl({ containers: source });
    await source.start();
    await vi.waitFor(() => expect(source.watched().map((c) => c.name)).toContain(name), { timeout: 15_000 });
    // The script is written by the container's entry command: wait until it is there.
    await vi.waitFor(async () => expect((await control.exec(name, ['tailscale', 'version'], 5000)).exitCode).toBe(0), { timeout: 10_000 });
  }, 60_000);

  afterAll(async () => {
    await source?.stop();
    control?.stop();
    await fake?.close();
    await removeContainer(docker, name);
  });

  it('reports a client below the server minimum as version skew naming both versions', async () => {
    const skew = new SkewDetector();
    const events: DetectorEvent[] = [];
    const feed = (f: Finding) => events.push(...skew.observe(f));

    const poller = new HeadscalePoller({ api: new HeadscaleClient({ url: fake.url, apiKey: KEY, timeoutMs: 5000 }), intervalMs: 10_000, onFinding: feed });
    await poller.pollOnce(Date.now());
    const probe = new VersionProbe({ control, onFinding: feed, timeoutMs: 10_000 });
    const found = await probe.probeOnce(Date.now());

    expect(found).toEqual([expect.objectContaining({ kind: 'client-version', origin: name, version: '1.74.0' })]);
    const fired = events.filter((e) => e.action === 'fire');
    expect(fired).toHaveLength(1);
    const alert = (fired[0] as Extract<DetectorEvent, { action: 'fire' }>).alert;
    expect(alert.fingerprint).toBe(`version-skew:${name}`);
    expect(alert.severity).toBe('critical');
    expect(alert.summary).toContain('1.74.0');
    expect(alert.summary).toContain('0.29.2');
    expect(alert.summary).toContain('v1.80');
    expect(alert.labels).toMatchObject({ clientVersion: '1.74.0', serverVersion: '0.29.2', direction: 'below' });
  }, 30_000);
});
