import { expect, it } from 'vitest';
import { describeDocker } from '../support/docker.js';
import { dockerTestScope, makeSource, runContainer } from '../docker/helpers.js';

const { docker, name, track } = dockerTestScope();

describeDocker('DockerControl against a real engine', () => {
  it('runs argv in a container: output, exit codes, timeouts, unknown names', async () => {
    const ts = name('ts');
    await runContainer(docker, { name: ts, cmd: ['sleep', '1d'] });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [ts] }));
    await h.source.start();
    await expect(h.control.exec(ts, ['sh', '-c', 'echo hello; echo oops >&2; exit 3'])).resolves.toEqual({ exitCode: 3, stdout: 'hello\n', stderr: 'oops\n' });
    // argv is passed as is: no shell expands this.
    await expect(h.control.exec(ts, ['echo', '$HOME;', 'x'])).resolves.toMatchObject({ exitCode: 0, stdout: '$HOME; x\n' });
    await expect(h.control.exec(ts, ['sleep', '5'], 500)).rejects.toThrow(/did not finish within/);
    await expect(h.control.exec('no-such-container-hw', ['true'])).rejects.toThrow(/no container named "no-such-container-hw"/);
    await expect(h.control.exec(ts, [])).rejects.toThrow(/argv/);
  });

  it('stop() abandons an exec still running, and later ones still work; restart reports the new start time', async () => {
    const ts = name('ts');
    await runContainer(docker, { name: ts, cmd: ['sleep', '1d'] });
    const h = track(makeSource({ headscaleContainer: 'none-such', tailscaleContainers: [ts] }));
    await h.source.start();
    const running = h.control.exec(ts, ['sleep', '20'], 30_000);
    await new Promise((r) => setTimeout(r, 300));
    h.control.stop();
    await expect(running).rejects.toThrow(/headwatch is stopping; sleep in container .* was abandoned/);
    await expect(h.control.exec(ts, ['echo', 'again'])).resolves.toMatchObject({ exitCode: 0, stdout: 'again\n' });
    const before = (await docker.getContainer(ts).inspect()).State.StartedAt;
    const { startedAt } = await h.control.restart(ts);
    expect(startedAt).not.toBe(before);
    await expect(h.control.restart('no-such-container-hw')).rejects.toThrow(/cannot restart container no-such-container-hw: there is no container named/);
  });
});
