import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fingerprint } from '../../src/config/known-hosts.js';
import { describeDocker, removeContainer, TEST_ENGINE, testDocker, uniqueName } from '../support/docker.js';
import { PrivateSshd, sshdAvailable } from '../support/sshd.js';
import { startHeadwatch, stopAllHeadwatch, type Running } from './app-harness.js';
import { runContainer, waitFor } from './helpers.js';

/**
 * Issue 15 §1, `ssh://user@host` as dockerode supports it, on real parts: a private sshd on a loopback port
 * (key auth through an ssh-agent at SSH_AUTH_SOCK), whose sessions reach the suite's private engine, as host
 * `build` beside the suite's engine as `local`. headwatch watches a container through the ssh transport and
 * reports it going down under its `build/` name. The server's host key is checked against a known_hosts file: a
 * wrong key there refuses the host, naming the key presented, and fixing the file lets it in without a restart.
 */
const canRunSshd = await sshdAvailable();
if (!canRunSshd && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error('HEADWATCH_REQUIRE_DOCKER=1 but this machine cannot run a private sshd (needs root, openssh-server, openssh-client and the docker CLI)');
}
const describeSsh = canRunSshd && TEST_ENGINE ? describeDocker : describeDocker.skip;

describeSsh('a Docker host reached over ssh://', () => {
  const docker = testDocker();
  const sshd = new PrivateSshd(TEST_ENGINE ?? '');
  const name = uniqueName('over-ssh');
  let hw: Running;
  const savedAgent = process.env.SSH_AUTH_SOCK;
  const knownHosts = join(mkdtempSync(join(tmpdir(), 'hw-kh-')), 'known_hosts');

  beforeAll(async () => {
    await sshd.start();
    // The ssh transport takes its agent from the process's SSH_AUTH_SOCK, as the ssh CLI does.
    process.env.SSH_AUTH_SOCK = sshd.agentSocket;
    writeFileSync(knownHosts, `# the private sshd\n${sshd.knownHostsLine()}\n`);
    await runContainer(docker, { name, cmd: ['sh', '-c', 'trap "exit 0" TERM; echo up; while true; do sleep 1; done'] });
    hw = await startHeadwatch(
      {
        DOCKER_HOST: '',
        HEADWATCH_DOCKER_HOSTS: `local=${process.env.DOCKER_HOST ?? TEST_ENGINE},build=ssh://root@127.0.0.1:${sshd.port}`,
        HEADSCALE_CONTAINER: `local/${uniqueName('no-headscale')}`,
        TAILSCALE_CONTAINERS: `build/${name}`,
        CONTAINER_DOWN_SECONDS: '1',
        HEADWATCH_SSH_KNOWN_HOSTS: knownHosts,
      },
      [name],
    );
  }, 120_000);

  afterAll(async () => {
    await stopAllHeadwatch();
    await removeContainer(docker, name).catch(() => undefined);
    sshd.stop();
    if (savedAgent === undefined) delete process.env.SSH_AUTH_SOCK;
    else process.env.SSH_AUTH_SOCK = savedAgent;
  }, 60_000);

  it('watches the container as build/<name> through ssh, reports the host ready, and alerts when it stops', async () => {
    const { app } = hw;
    await waitFor(
      'the container to be watched through the ssh host',
      () => app.docker.watched().some((w) => w.name === `build/${name}`),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; hosts: ${JSON.stringify(app.docker.hosts())}; sshd log: ${sshd.log().slice(-1500)}`);
    });
    expect(app.docker.watched().find((w) => w.name === `build/${name}`)).toMatchObject({ host: 'build', nameOnHost: name, role: 'tailscale' });
    // Ready once the first sync over ssh has finished (every request there opens its own ssh session, which takes
    // a while on a loaded machine); the container is already listed as watched during that sync.
    const buildCheck = async () => {
      const ready = (await (await fetch(`http://127.0.0.1:${app.httpPort}/readyz`)).json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
      return ready.checks.find((x) => x.name === 'docker:build');
    };
    await waitFor('/readyz to report the ssh host ready', async () => (await buildCheck())?.ok === true, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; docker:build check: ${JSON.stringify(await buildCheck())}`);
    });
    expect(await buildCheck()).toMatchObject({ ok: true });

    await docker.getContainer(name).stop({ t: 1 });
    const down = await hw.hook.waitForAlert(`container-down for build/${name}`, (x) => x.status === 'firing' && x.kind === 'container-down' && x.subject === `build/${name}`, 30_000);
    expect(down.summary).toContain(`build/${name}`);
  }, 90_000);

  it('refuses the host while known_hosts holds another key for it, saying which key was presented, and lets it in once the file is fixed', async () => {
    // Another ed25519 key under the server's name: what a reinstalled host, or something in between, looks like.
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    const otherBlob = Buffer.concat([Buffer.from([0, 0, 0, 11]), Buffer.from('ssh-ed25519'), Buffer.from([0, 0, 0, 32]), other]);
    const wrong = join(mkdtempSync(join(tmpdir(), 'hw-kh-')), 'known_hosts');
    writeFileSync(wrong, `[127.0.0.1]:${sshd.port} ssh-ed25519 ${otherBlob.toString('base64')}\n`);
    const presented = fingerprint(Buffer.from(sshd.knownHostsLine().split(' ')[2]!, 'base64'));
    const second = await startHeadwatch(
      {
        DOCKER_HOST: '',
        HEADWATCH_DOCKER_HOSTS: `local=${process.env.DOCKER_HOST ?? TEST_ENGINE},build=ssh://root@127.0.0.1:${sshd.port}`,
        HEADSCALE_CONTAINER: `local/${uniqueName('no-headscale')}`,
        TAILSCALE_CONTAINERS: `build/${name}`,
        HEADWATCH_SSH_KNOWN_HOSTS: wrong,
      },
      [],
    );
    const buildCheck = async () => {
      const ready = (await (await fetch(`http://127.0.0.1:${second.app.httpPort}/readyz`)).json()) as { checks: { name: string; ok: boolean; detail?: string }[] };
      return ready.checks.find((x) => x.name === 'docker:build');
    };
    await waitFor('/readyz to report the refused host key', async () => (await buildCheck())?.detail?.includes('is not the one in') === true, 30_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; docker:build check: ${JSON.stringify(await buildCheck())}`);
    });
    const refused = await buildCheck();
    expect(refused?.ok).toBe(false);
    expect(refused?.detail).toContain(`the ssh host key of [127.0.0.1]:${sshd.port} (${presented}) is not the one in ${wrong}`);
    expect(second.app.docker.watched().some((w) => w.name.startsWith('build/'))).toBe(false);

    writeFileSync(wrong, `${sshd.knownHostsLine()}\n`);
    await waitFor('the host to be let in after the file was fixed', async () => (await buildCheck())?.ok === true, 60_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; docker:build check: ${JSON.stringify(await buildCheck())}`);
    });
  }, 120_000);
});
