import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, uniqueName } from '../support/docker.js';
import { dockerdAvailable, makeSource, PrivateDockerd, runContainer, tickingScript, waitFor, type Harness } from './helpers.js';

/**
 * The engine itself goes away and comes back. A private dockerd is used so the shared engine (and the other
 * Docker suites running meanwhile) are not disturbed.
 */
const canRunDockerd = await dockerdAvailable();
if (!canRunDockerd && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error('HEADWATCH_REQUIRE_DOCKER=1 but this machine cannot start a private dockerd (needs root, dockerd and busybox)');
}
const describeDaemon = canRunDockerd ? describeDocker : describeDocker.skip;

describeDaemon('DockerSource when the engine restarts', () => {
  const engine = new PrivateDockerd();
  let h: Harness | undefined;

  beforeAll(async () => {
    await engine.start();
  });
  afterAll(async () => {
    await h?.source.stop();
    await engine.destroy();
  });

  it('reports unreachable then reachable, re-attaches, and reads new lines without repeating old ones', async () => {
    const ts = uniqueName('ts');
    // restart=always: the engine starts it again when it comes back, as compose stacks usually are.
    await runContainer(engine.docker, { name: ts, cmd: tickingScript('tick'), restartAlways: true });
    h = makeSource({ dockerHost: engine.host, headscaleContainer: 'none-such', tailscaleContainers: [ts] });
    await h.source.start();
    const harness = h;
    expect(h.source.status().reachable).toBe(true);
    await waitFor('lines before the engine stops', () => harness.linesOf(ts).filter((l) => l.includes('run=1')).length >= 4);

    const pid = engine.pid();
    await engine.stop(); // kills the pid from the pidfile and waits for it to exit
    await waitFor('unreachable status', () => !harness.source.status().reachable, 20_000);
    expect(h.source.status().error).toMatch(/docker\.sock/);
    expect(h.statuses.map((s) => s.reachable)).toEqual([true, false]);

    await engine.start();
    expect(engine.pid()).not.toBe(pid);
    await waitFor('reachable again', () => harness.source.status().reachable, 30_000);
    await waitFor('lines of the container after the engine restart', () => harness.linesOf(ts).filter((l) => l.includes('run=2')).length >= 4, 30_000);
    expect(h.statuses.map((s) => s.reachable)).toEqual([true, false, true]);

    const lines = h.linesOf(ts);
    expect(lines.filter((l, i) => lines.indexOf(l) !== i), 'lines delivered twice').toEqual([]);
    // Exactly one warning for the outage and one notice for the recovery, however many retries happened.
    expect(h.logs.filter((l) => l.level === 40 && /unreachable/.test(l.msg))).toHaveLength(1);
    expect(h.logs.filter((l) => l.level === 30 && /reachable at/.test(l.msg))).toHaveLength(2);
    await engine.docker.getContainer(ts).remove({ force: true });
  });
});
