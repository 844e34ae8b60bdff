import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainer, TEST_IMAGE, testDocker, uniqueName } from '../support/docker.js';
import { describeProxy, startDockerProxy, type DockerProxy } from '../support/docker-proxy.js';
import { makeSource, waitFor, type Harness } from './helpers.js';
import { cardButtons, startRig } from '../interaction/harness.js';

/**
 * Least privilege, proven against the real rules (deploy/docker-proxy/haproxy.cfg) in front of the real engine:
 * what headwatch needs passes, everything else is refused with 403 and a message naming what is missing, and
 * headwatch turns a refusal into an operator-readable error while it keeps watching.
 */
const docker = testDocker();
const tailscale = uniqueName('tailscale');
const headscale = uniqueName('headscale');
const proxies: DockerProxy[] = [];
const harnesses: Harness[] = [];

async function proxy(settings: Parameters<typeof startDockerProxy>[0]): Promise<DockerProxy> {
  const p = await startDockerProxy(settings);
  proxies.push(p);
  return p;
}

async function call(p: DockerProxy, method: string, path: string, body?: unknown): Promise<{ status: number; message: string }> {
  const r = await fetch(`${p.url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
  const text = await r.text();
  let message = text;
  try {
    message = (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    /* not JSON */
  }
  return { status: r.status, message };
}

beforeAll(async () => {
  for (const name of [tailscale, headscale]) {
    const c = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', `trap "exit 0" TERM; while true; do echo "${name} alive"; sleep 0.2; done`],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
  }
});

afterAll(async () => {
  for (const h of harnesses) h.control.stop();
  await Promise.all(harnesses.map((h) => h.source.stop()));
  await Promise.all(proxies.map((p) => p.stop()));
  await Promise.all([tailscale, headscale].map((n) => removeContainer(docker, n)));
});

describeDocker('the Docker socket proxy rules', () => {
  describeProxy('with restart and exec switched on, exec limited to the Tailscale container', () => {
    let p: DockerProxy;
    beforeAll(async () => {
      p = await proxy({ ALLOW_RESTART: '1', ALLOW_EXEC: '1', EXEC_CONTAINERS: tailscale });
    });

    it('lets headwatch watch, restart and run commands: logs, CPU, restart and exec all work through it', async () => {
      const h = makeSource({ dockerHost: p.host, headscaleContainer: headscale, tailscaleContainers: [tailscale], cpuSampleMs: 500 });
      harnesses.push(h);
      await h.source.start();
      await waitFor('log lines through the proxy', () => h.linesOf(tailscale).length > 0 && h.linesOf(headscale).length > 0);
      await waitFor('a CPU sample through the proxy', () => h.findings.some((f) => f.kind === 'cpu-sample'));
      expect(h.source.status().reachable).toBe(true);
      const before = (await docker.getContainer(tailscale).inspect()).State.StartedAt;
      const { startedAt } = await h.control.restart(tailscale);
      expect(startedAt).not.toBe(before);
      const r = await h.control.exec(tailscale, ['echo', 'through the proxy'], 10_000);
      expect(r).toMatchObject({ exitCode: 0, stdout: 'through the proxy\n' });
    });

    it('refuses creating, deleting, stopping and killing containers, images, volumes, and privileged or stray execs (403)', async () => {
      const refused = [
        await call(p, 'POST', '/containers/create', { Image: TEST_IMAGE, Cmd: ['true'] }),
        await call(p, 'POST', '/v1.41/containers/create?name=evil', { Image: TEST_IMAGE, HostConfig: { Binds: ['/:/host'] } }),
        await call(p, 'DELETE', `/containers/${headscale}?force=1`),
        await call(p, 'POST', `/containers/${headscale}/stop`),
        await call(p, 'POST', `/containers/${headscale}/kill`),
        await call(p, 'GET', '/images/json'),
        await call(p, 'POST', '/images/create?fromImage=alpine'),
        await call(p, 'GET', '/volumes'),
        await call(p, 'POST', '/build'),
        await call(p, 'POST', `/containers/${headscale}/exec`, { Cmd: ['id'], AttachStdout: true }),
        await call(p, 'POST', `/containers/${tailscale}/exec`, { Cmd: ['id'], Privileged: true }),
      ];
      expect(refused.map((r) => r.status)).toEqual(refused.map(() => 403));
      expect(refused[0]!.message).toBe('refused by the Docker socket proxy: POST /containers/create is not a call headwatch makes, so it is not allowed');
      expect(refused[2]!.message).toContain(`DELETE /containers/${headscale} is not a call headwatch makes`);
      expect(refused[9]!.message).toContain('this container is not in EXEC_CONTAINERS on the proxy');
      expect(refused[10]!.message).toContain('privileged exec is never allowed');
      // Nothing happened behind the refusals.
      const names = (await docker.listContainers({ all: true })).flatMap((c) => c.Names);
      expect(names).not.toContain('/evil');
      expect((await docker.getContainer(headscale).inspect()).State.Running).toBe(true);
      // The refusals are in the proxy's log, for the operator.
      expect(p.log()).toContain('"POST /containers/create HTTP/1.1"');
    });

    it('answers the watching calls (with and without an API version prefix)', async () => {
      for (const path of ['/_ping', '/v1.41/_ping', '/containers/json?all=1', `/v1.41/containers/${headscale}/json`, `/containers/${headscale}/stats?stream=false&one-shot=true`]) {
        expect((await call(p, 'GET', path)).status, path).toBe(200);
      }
    });
  });

  describeProxy('with restart and exec switched off (a watch-only proxy)', () => {
    let p: DockerProxy;
    beforeAll(async () => {
      p = await proxy({});
    });

    it('headwatch keeps watching and reports refused restarts and execs naming the missing permission', async () => {
      const h = makeSource({ dockerHost: p.host, headscaleContainer: headscale, tailscaleContainers: [tailscale] });
      harnesses.push(h);
      await h.source.start();
      await waitFor('log lines through the watch-only proxy', () => h.linesOf(headscale).length > 0);
      await expect(h.control.restart(headscale)).rejects.toThrow(
        new RegExp(`^cannot restart container ${headscale}: ${p.host} refused the call \\(HTTP 403, a permission headwatch needs is missing\\): refused by the Docker socket proxy: POST /containers/${headscale}/restart needs ALLOW_RESTART=1 on the proxy`),
      );
      await expect(h.control.exec(tailscale, ['tailscale', 'version'], 5000)).rejects.toThrow(/needs ALLOW_EXEC=1 on the proxy/);
      // Not a crash: still reachable, still reading.
      const seen = h.linesOf(headscale).length;
      await waitFor('more log lines after the refusals', () => h.linesOf(headscale).length > seen);
      expect(h.source.status().reachable).toBe(true);
    });

    it('an approved /headscale restart ends FAILED with the permission to grant, in the chat card', async () => {
      const h = makeSource({ dockerHost: p.host, headscaleContainer: headscale, tailscaleContainers: [tailscale] });
      harnesses.push(h);
      await h.source.start();
      await waitFor('the container to be watched', () => h.source.watched().some((w) => w.name === tailscale));
      const rig = await startRig({ docker: h.control });
      try {
        const { approve } = cardButtons(await rig.command('slack', 'UOP', `restart ${tailscale}`));
        const click = await rig.click('slack', 'UAP', approve);
        expect(click.last('replace')!.fallback).toMatch(/^FAILED: restart container/);
        expect(JSON.stringify(click.last('replace'))).toContain('needs ALLOW_RESTART=1 on the proxy');
      } finally {
        await rig.close();
      }
    });
  });
});
