import { expect, it } from 'vitest';
import type { ContainerStateFinding } from '../../../src/parsers/finding.js';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName } from '../../support/docker.js';
import { dockerTestScope, makeSource, runContainer, tickingScript, waitFor, type Harness } from '../../docker/helpers.js';

const { docker, name, track } = dockerTestScope();

function states(h: Harness, origin: string): string[] {
  return h.findings.filter((f): f is ContainerStateFinding => f.kind === 'container-state' && f.origin === origin).map((f) => f.state);
}

function noDuplicates(lines: string[]): void {
  const dup = lines.filter((l, i) => lines.indexOf(l) !== i);
  expect(dup, 'lines delivered twice').toEqual([]);
}

describeDocker('DockerSource against a real engine', () => {
  it('follows stdout and stderr of a named container from now on, without timestamps and without history', async () => {
    const hs = name('hs');
    const c = await runContainer(docker, {
      name: hs,
      cmd: ['sh', '-c', 'echo history-out; echo history-err >&2; sleep 1.5; i=0; while :; do i=$((i+1)); echo "out $i"; echo "err $i" >&2; sleep 0.2; done'],
    });
    await waitFor('the history line in docker logs', async () => (await c.logs({ stdout: true, stderr: true })).toString().includes('history-err'));
    const h = track(makeSource({ headscaleContainer: hs, tailscaleContainers: [] }));
    await h.source.start();
    expect(h.source.status().reachable).toBe(true);
    expect(h.source.watched()).toMatchObject([{ name: hs, role: 'headscale', running: true, image: TEST_IMAGE }]);
    await waitFor('stdout and stderr lines', () => h.linesOf(hs).some((l) => /^out \d+$/.test(l)) && h.linesOf(hs).some((l) => /^err \d+$/.test(l)));
    const got = h.linesOf(hs);
    expect(got).not.toContain('history-out');
    expect(got).not.toContain('history-err');
    for (const l of got) expect(l).toMatch(/^(out|err) \d+$/);
    expect(h.statuses).toEqual([expect.objectContaining({ reachable: true })]);
    await expect(h.metrics.up.get()).resolves.toMatchObject({ values: [{ labels: { dependency: 'docker' }, value: 1 }] });
  });

  it('reads a TTY container raw (no frame headers, no CR, no timestamps)', async () => {
    const ts = name('ts');
    await runContainer(docker, { name: ts, tty: true, cmd: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "tty line $i"; sleep 0.2; done'] });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [ts] }));
    await h.source.start();
    await waitFor('three tty lines', () => h.linesOf(ts).length >= 3);
    for (const l of h.linesOf(ts)) expect(l).toMatch(/^tty line \d+$/);
    expect(h.source.watched()[0]).toMatchObject({ name: ts, role: 'tailscale' });
  });

  it('re-attaches after a restart from where it was: new lines arrive, none twice', async () => {
    const ts = name('ts');
    await runContainer(docker, { name: ts, cmd: tickingScript('tick') });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [ts] }));
    await h.source.start();
    await waitFor('lines of run 1', () => h.linesOf(ts).filter((l) => l.includes('run=1')).length >= 4);
    const before = h.source.watched()[0]!.startedAt;
    const { startedAt } = await h.control.restart(ts);
    expect(startedAt).not.toBe(before);
    await waitFor('lines of run 2', () => h.linesOf(ts).filter((l) => l.includes('run=2')).length >= 4);
    noDuplicates(h.linesOf(ts));
    // The events arrive on their own stream: under load the log of run 2 can be read before they are handled.
    await waitFor('die, start and restart findings', () => ['die', 'start', 'restart'].every((s) => states(h, ts).includes(s)));
    expect(h.source.watched()[0]!.startedAt).toBe(startedAt);
    noDuplicates(h.linesOf(ts));
  });

  it('follows a container that is removed and recreated under the same name, from its first line', async () => {
    const ts = name('ts');
    const first = await runContainer(docker, { name: ts, cmd: tickingScript('old') });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [ts] }));
    await h.source.start();
    await waitFor('lines of the first container', () => h.linesOf(ts).some((l) => l.startsWith('old')));
    await first.remove({ force: true });
    await waitFor('destroy finding', () => states(h, ts).includes('destroy'));
    expect(h.source.watched()).toEqual([]);
    const second = await runContainer(docker, { name: ts, cmd: ['sh', '-c', 'echo "first line of new"; exec sh -c "while :; do echo new; sleep 0.2; done"'] });
    await waitFor('the new container first line', () => h.linesOf(ts).includes('first line of new'));
    await waitFor('later lines', () => h.linesOf(ts).filter((l) => l === 'new').length >= 2);
    expect(h.source.watched()).toMatchObject([{ name: ts, id: second.id, running: true }]);
    expect(h.lines.filter((l) => l.line === 'new').every((l) => l.id === second.id)).toBe(true);
    expect(states(h, ts)).toContain('start');
  });

  it('discovers Tailscale containers by image name when no names are configured', async () => {
    const tag = `hw-tailscale-${uniqueName('img').toLowerCase()}`;
    await docker.getImage(TEST_IMAGE).tag({ repo: `headwatch-test/${tag}`, tag: '1' });
    const image = `headwatch-test/${tag}:1`;
    const ts = name('anything');
    const other = name('unrelated');
    try {
      const h = track(makeSource({ headscaleContainer: 'none-such' }));
      await h.source.start();
      await runContainer(docker, { name: ts, image, cmd: ['sh', '-c', 'while :; do echo from-tailscale-image; sleep 0.2; done'] });
      await runContainer(docker, { name: other, cmd: ['sh', '-c', 'while :; do echo unrelated; sleep 0.2; done'] });
      await waitFor('lines from the tailscale-image container', () => h.linesOf(ts).includes('from-tailscale-image'));
      await new Promise((r) => setTimeout(r, 500));
      expect(h.linesOf(other)).toEqual([]);
      expect(h.source.watched().map((c) => c.name)).toContain(ts);
      expect(h.source.watched().map((c) => c.name)).not.toContain(other);
    } finally {
      await removeContainer(docker, ts);
      await docker.getImage(image).remove().catch(() => {});
    }
  });

  it('reports an absent engine once, keeps retrying quietly, and never throws', async () => {
    const h = track(makeSource({ headscaleContainer: 'headscale', dockerHost: 'unix:///tmp/hw-no-such-dir/docker.sock' }));
    const t0 = Date.now();
    await h.source.start();
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(h.source.status()).toMatchObject({ reachable: false, error: expect.stringMatching(/no Docker socket at unix:\/\/\/tmp\/hw-no-such-dir\/docker.sock/) });
    await new Promise((r) => setTimeout(r, 2500)); // several retries happen meanwhile
    expect(h.statuses).toHaveLength(1);
    expect(h.logs.filter((l) => l.level === 40 && /unreachable/.test(l.msg))).toHaveLength(1);
    expect(h.source.watched()).toEqual([]);
    const up = await h.metrics.up.get();
    expect(up.values).toEqual([expect.objectContaining({ labels: { dependency: 'docker' }, value: 0 })]);
  });

  it('survives callbacks that throw', async () => {
    const hs = name('hs');
    await runContainer(docker, { name: hs, cmd: ['sh', '-c', 'while :; do echo boom; sleep 0.1; done'] });
    let calls = 0;
    const h = track(
      makeSource({
        headscaleContainer: hs,
        tailscaleContainers: [],
        onLine: () => {
          calls++;
          throw new Error('consumer bug');
        },
      }),
    );
    await h.source.start();
    await waitFor('several lines despite the throwing consumer', () => calls >= 5);
    expect(h.source.status().reachable).toBe(true);
  });
});
