import { expect, it } from 'vitest';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName } from '../support/docker.js';
import { startHeadwatch, stopAllHeadwatch } from './app-harness.js';
import { dockerTestScope, runContainer, waitFor } from './helpers.js';

/**
 * The watched containers themselves on a real engine, through the whole app to the signed webhook: missing (with
 * what exists under a similar name), down (exit code, last log lines, OOM kill), and a restart loop under
 * `--restart always`. Short grace times so the rules show in seconds; the rules are the same at their defaults.
 */
const { docker, name } = dockerTestScope(stopAllHeadwatch);

const FAST = {
  CONTAINER_MISSING_SECONDS: '2',
  CONTAINER_DOWN_SECONDS: '2',
  CONTAINER_RESTART_COUNT: '3',
  CONTAINER_RESTART_WINDOW_SECONDS: '20',
};

describeDocker('container lifecycle alerts on a real engine', () => {
  it('container-missing: names what was looked for and a similar container; clears when it exists; fires again when it is removed', async () => {
    const hs = uniqueName('hs');
    const similar = name(`stack-${hs}-1`);
    await runContainer(docker, { name: similar, cmd: ['sleep', '1d'] });
    const { hook } = await startHeadwatch({ ...FAST, HEADSCALE_CONTAINER: hs, TAILSCALE_CONTAINERS: uniqueName('no-ts') }, [hs]);

    const missing = await hook.waitForAlert('container-missing for the headscale name', (a) => a.kind === 'container-missing' && a.subject === hs && a.status === 'firing', 30_000);
    expect(missing.severity).toBe('critical');
    // The engine headwatch was given (in CI the socket proxy's tcp:// address).
    const engine = (process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(missing.summary).toMatch(new RegExp(`^No container named "${hs}" on ${engine} \\(looked for as the Headscale container, from HEADSCALE_CONTAINER\\)`));
    expect(missing.summary).toContain(`Containers with a similar name or image: "${similar}" (image ${TEST_IMAGE}, running)`);
    expect(missing.advice).toContain(`set HEADSCALE_CONTAINER=${similar}`);
    expect(missing.signatureValid).toBe(true);

    await runContainer(docker, { name: hs, cmd: ['sleep', '1d'] });
    await hook.waitForAlert('container-missing resolved', (a) => a.kind === 'container-missing' && a.subject === hs && a.status === 'resolved', 30_000);

    const posts = hook.alerts().length;
    await removeContainer(docker, hs);
    const removed = await hook.waitForAlert(
      'container-missing after removal',
      (a) => a.kind === 'container-missing' && a.subject === hs && a.status === 'firing' && /was removed/.test(a.summary),
      30_000,
    );
    expect(removed.summary).toMatch(new RegExp(`^The watched Headscale container "${hs}" was removed on ${engine}`));
    expect(hook.alerts().length).toBeGreaterThan(posts);
  });

  it('container-down: the exit code and the last log lines; clears when it runs again', async () => {
    const ts = name('ts-down');
    const { hook } = await startHeadwatch({ ...FAST, HEADSCALE_CONTAINER: uniqueName('no-hs'), TAILSCALE_CONTAINERS: ts }, [ts]);
    // The pause between the stdout and the stderr line: the engine reads the two streams in separate goroutines and
    // stamps each line when it reads it, so lines of both streams printed within microseconds have no defined order.
    await runContainer(docker, { name: ts, cmd: ['sh', '-c', 'echo "boot: starting"; sleep 1; echo "fatal: no state directory at /var/lib/tailscale" >&2; sleep 1; exit 3'] });

    const down = await hook.waitForAlert('container-down', (a) => a.kind === 'container-down' && a.subject === ts && a.status === 'firing', 30_000);
    expect(down.severity).toBe('warning');
    expect(down.summary).toMatch(new RegExp(`^Container ${ts} exited with code 3 and has been down for \\d+ s\\. It has no restart policy`));
    expect(down.evidence).toEqual(['log: boot: starting', 'log: fatal: no state directory at /var/lib/tailscale']);
    expect(down.labels).toMatchObject({ exitCode: '3', oomKilled: 'false', role: 'tailscale' });
    expect(down.advice).toMatch(/exit code 3.*restart: unless-stopped/);
    expect(down.command).toBe(`/headscale restart ${ts}`);

    await docker.getContainer(ts).start();
    const up = await hook.waitForAlert('container-down resolved', (a) => a.kind === 'container-down' && a.subject === ts && a.status === 'resolved', 30_000);
    expect(up.summary).toMatch(new RegExp(`^Container ${ts} is running again after \\d+ s down`));
  });

  it('container-down says when the kernel OOM-killed it (memory limit on this engine)', async () => {
    const ts = name('ts-oom');
    const { hook } = await startHeadwatch({ ...FAST, HEADSCALE_CONTAINER: uniqueName('no-hs'), TAILSCALE_CONTAINERS: ts }, [ts]);
    const c = await docker.createContainer({
      name: ts,
      Image: TEST_IMAGE,
      // `tail -c` keeps 100 MB in memory; the limit is 16 MiB without swap.
      Cmd: ['sh', '-c', 'echo "allocating"; head -c 200000000 /dev/zero | tail -c 100000000 > /dev/null'],
      HostConfig: { NetworkMode: 'none', Memory: 16 * 1024 * 1024, MemorySwap: 16 * 1024 * 1024 },
    });
    await c.start();
    const down = await hook.waitForAlert('container-down (OOM)', (a) => a.kind === 'container-down' && a.subject === ts && a.status === 'firing', 40_000);
    expect((await c.inspect()).State.OOMKilled).toBe(true);
    expect(down.summary).toMatch(new RegExp(`^Container ${ts} was killed by the kernel's OOM killer \\(out of memory under its memory limit, exit code 137\\)`));
    expect(down.labels).toMatchObject({ oomKilled: 'true', exitCode: '137' });
    expect(down.evidence).toContain('log: allocating');
    expect(down.advice).toMatch(/^It ran out of memory under its limit: raise the memory limit/);
  });

  it('container-restart-loop: a container exiting every 2 s under --restart always, with restart count and the TS_AUTHKEY warning; hands over to container-down when the loop stops', async () => {
    const ts = name('ts-loop');
    const authKey = 'hskey-auth-abcdefabcdef-0123456789secret0123456789';
    const { hook } = await startHeadwatch({ ...FAST, HEADSCALE_CONTAINER: uniqueName('no-hs'), TAILSCALE_CONTAINERS: ts }, [ts]);
    const c = await docker.createContainer({
      name: ts,
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'echo "boot: tailscaled left running state (now in state \\"NeedsLogin\\"), exiting"; sleep 2; exit 1'],
      Env: [`TS_AUTHKEY=${authKey}`, 'TS_EXTRA_ARGS=--login-server=https://hs.example.com'],
      StopTimeout: 1,
      HostConfig: { NetworkMode: 'none', RestartPolicy: { Name: 'always' } },
    });
    await c.start();

    const loop = await hook.waitForAlert('container-restart-loop', (a) => a.kind === 'container-restart-loop' && a.subject === ts && a.status === 'firing', 40_000);
    const count = Number(loop.labels.restartCount);
    expect(count).toBeGreaterThanOrEqual(2);
    expect(loop.summary).toMatch(new RegExp(`^Container ${ts} started [3-9] times in 20 s: it keeps exiting and being restarted\\. Last stop: exited with code 1\\. The engine counts ${count} restarts \\(policy always\\)\\.`));
    expect(loop.summary).toContain('TS_AUTHKEY is set without TS_AUTH_ONCE=true: containerboot re-sends the key on every start');
    expect(loop.labels).toMatchObject({ authKey: 'set-without-auth-once', exitCode: '1', role: 'tailscale' });
    expect(loop.evidence.some((l) => l.includes('tailscaled left running state'))).toBe(true);
    expect(loop.advice).toMatch(/TS_AUTH_ONCE=true/);
    // The key itself goes nowhere: not in the alert, its evidence or its advice.
    expect(JSON.stringify(hook.alerts())).not.toContain('0123456789secret');
    // Restarted within a second or two each time: never down long enough for container-down.
    expect(hook.alerts().some((a) => a.kind === 'container-down' && a.subject === ts)).toBe(false);

    // The policy gives up: it stays down. The loop clears after half the window without a start, and the
    // container being down is then reported on its own.
    await c.update({ RestartPolicy: { Name: 'no' } });
    const ended = await hook.waitForAlert('restart loop resolved', (a) => a.kind === 'container-restart-loop' && a.subject === ts && a.status === 'resolved', 40_000);
    expect(ended.summary).toMatch(/has not been restarted for 10 s; it is down now/);
    const down = await hook.waitForAlert('container-down after the loop', (a) => a.kind === 'container-down' && a.subject === ts && a.status === 'firing', 20_000);
    expect(down.summary).toMatch(new RegExp(`^Container ${ts} exited with code 1 and has been down for \\d+ s\\.`));
    await waitFor('the engine agrees it is stopped', async () => !(await c.inspect()).State.Running, 5_000);
  });
});
