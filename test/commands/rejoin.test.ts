import { existsSync, readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName, testDocker } from '../support/docker.js';
import { makeSource, type Harness } from '../docker/helpers.js';
import { containerbootFlags } from '../../src/actions/rejoin.js';
import { allText, cardButtons, startRig, staticContainers, type Rig, type RecordingResponder } from '../interaction/harness.js';

function dbBytes(path: string): Buffer {
  return Buffer.concat([path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

function keyCreations(rig: Rig) {
  return rig.hs.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/preauthkey');
}

describe('rejoin without a Docker engine: who and what may be re-registered', () => {
  let rig: Rig;
  afterEach(async () => {
    await rig?.close();
  });

  it('waits for approval: a card is posted and no key exists until someone approves', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'laptop' }]) });
    const req = await rig.command('slack', 'UOP', 'rejoin laptop');
    const card = req.last('post');
    expect(card?.fallback).toMatch(/Approval needed: re-register container laptop as user alice \(owner of node laptop\)/);
    expect(allText(card)).toContain(`login server the container's own --login-server, else ${rig.hs.url}`);
    expect(cardButtons(req).approve).toMatch(/^hw:approve:/);
    expect(keyCreations(rig)).toHaveLength(0);
    expect(rig.hs.state.preAuthKeys).toHaveLength(0);
  });

  it('is for operators only: an approver cannot request it', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'laptop' }]) });
    const r = await rig.command('slack', 'UAP', 'rejoin laptop --user alice');
    expect(r.last('replace')!.fallback).toMatch(/not allowed to run \/headscale rejoin: your id is not in HEADWATCH_OPERATORS or HEADWATCH_ADMINS/);
    expect(r.of('post')).toHaveLength(0);
  });

  it('refuses a container that is not a watched Tailscale container, naming the ones it may touch', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'ts-a' }, { name: 'headscale', role: 'headscale' }]) });
    const other = await rig.command('slack', 'UOP', 'rejoin postgres --user alice');
    expect(other.last('replace')!.fallback).toMatch(/postgres cannot be re-registered from chat\. Watched Tailscale containers: ts-a\./);
    const server = await rig.command('slack', 'UOP', 'rejoin headscale --user alice');
    expect(server.last('replace')!.fallback).toMatch(/headscale cannot be re-registered/);
    expect([...other.of('post'), ...server.of('post')]).toHaveLength(0);
    expect(rig.router.audit.last(5).map((e) => e.event)).toContain('refused');
  });

  it('asks for --user when no node is named like the container, and checks a given user exists', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'ts-a' }]) });
    const r = await rig.command('slack', 'UOP', 'rejoin ts-a');
    expect(r.last('replace')!.fallback).toMatch(/No Headscale node is named like ts-a .*--user <name>/);
    const bad = await rig.command('slack', 'UOP', 'rejoin ts-a --user mallory');
    expect(bad.last('replace')!.fallback).toMatch(/Headscale has no user mallory; users: alice, bob/);
    const ok = await rig.command('discord', '111', 'rejoin', { options: { container: 'ts-a', user: 'bob', 'login-server': 'https://hs.example.com' } });
    expect(ok.last('post')!.fallback).toMatch(/re-register container ts-a as user bob \(given with --user\).*login server https:\/\/hs\.example\.com/);
  });

  it('rejects a login server that is not an http(s) URL', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'ts-a' }]) });
    const r = await rig.command('slack', 'UOP', 'rejoin ts-a --user alice --login-server file:///etc/passwd');
    expect(allText(r.last('replace'))).toContain('login-server must be an http(s) URL');
    expect(r.of('post')).toHaveLength(0);
  });
});

describe('containerbootFlags', () => {
  it('restates what containerboot passed to tailscale up, and takes its login server', () => {
    const env = [
      'PATH=/usr/local/bin:/usr/bin',
      'TS_HOSTNAME=nas',
      'TS_ROUTES=10.0.0.0/24',
      'TS_AUTHKEY=hskey-auth-abcdefabcdef-0123456789',
      'TS_EXTRA_ARGS=--login-server https://hs.example.com --advertise-tags=tag:nas --authkey=old --force-reauth',
    ].join('\n');
    expect(containerbootFlags(env)).toEqual({
      flags: ['--accept-dns=false', '--hostname=nas', '--advertise-routes=10.0.0.0/24', '--advertise-tags=tag:nas'],
      loginServer: 'https://hs.example.com',
    });
  });

  it('keeps an --accept-dns from TS_EXTRA_ARGS instead of the default, and honours TS_ACCEPT_DNS', () => {
    expect(containerbootFlags('TS_EXTRA_ARGS=--accept-dns=true --ssh')?.flags).toEqual(['--accept-dns=true', '--ssh']);
    expect(containerbootFlags('TS_ACCEPT_DNS=true')?.flags).toEqual(['--accept-dns=true']);
  });

  it('is undefined for a container that is not run by containerboot', () => {
    expect(containerbootFlags('PATH=/bin\nHOME=/root')).toBeUndefined();
  });
});

/** A `tailscale` that records its argv to /tmp/argv, one per line; the failing one also echoes it to stderr. */
function fakeTailscale(exitCode: number): string[] {
  const lines = ['#!/bin/sh', 'for a in "$@"; do echo "$a"; done > /tmp/argv'];
  if (exitCode !== 0) lines.push('echo "backend error: could not register with $*" >&2');
  lines.push(`exit ${exitCode}`);
  const printf = `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} > /bin/tailscale`;
  return ['sh', '-c', `${printf} && busybox chmod 755 /bin/tailscale && exec sleep 600`];
}

describeDocker('rejoin against the real Docker engine', () => {
  const docker = testDocker();
  const good = uniqueName('hw-rejoin-ok');
  const bad = uniqueName('hw-rejoin-bad');
  const boot = uniqueName('hw-rejoin-boot');
  let h: Harness;
  let rig: Rig;

  beforeAll(async () => {
    // Hostnames match nodes of the fake Headscale, so the user is found without --user.
    for (const [name, host, code] of [[good, 'laptop', 0], [bad, 'server', 1]] as const) {
      const c = await docker.createContainer({ name, Hostname: host, Image: TEST_IMAGE, Cmd: fakeTailscale(code), HostConfig: { NetworkMode: 'none' } });
      await c.start();
    }
    // Like the official image: containerboot's settings in the environment, and an `env` to read them with.
    const [sh, c, script] = fakeTailscale(0) as [string, string, string];
    const bootContainer = await docker.createContainer({
      name: boot,
      Hostname: 'laptop',
      Image: TEST_IMAGE,
      Env: ['TS_HOSTNAME=laptop', 'TS_ROUTES=10.9.0.0/24', 'TS_EXTRA_ARGS=--login-server=http://hs.internal:8080 --advertise-tags=tag:nas'],
      Cmd: [sh, c, script.replace(' && exec sleep', ' && busybox ln -sf busybox /bin/env && exec sleep')],
      HostConfig: { NetworkMode: 'none' },
    });
    await bootContainer.start();
    h = makeSource({ headscaleContainer: uniqueName('no-headscale'), tailscaleContainers: [good, bad, boot] });
    await h.source.start();
    await vi.waitFor(() => expect(h.source.watched().map((w) => w.name).sort()).toEqual([good, bad, boot].sort()), { timeout: 15_000 });
    // The scripts are written by the containers' entry commands: wait until they are there.
    for (const name of [good, bad, boot]) {
      await vi.waitFor(async () => expect((await h.control.exec(name, ['cat', '/bin/tailscale'], 5000)).stdout).toContain('exit'), { timeout: 10_000 });
    }
    rig = await startRig({ docker: h.control });
  }, 60_000);

  afterAll(async () => {
    await rig?.close();
    await h?.source.stop();
    await removeContainer(docker, good);
    await removeContainer(docker, bad);
    await removeContainer(docker, boot);
  });

  it("restates containerboot's preferences and uses the container's own login server", async () => {
    await vi.waitFor(async () => expect((await h.control.exec(boot, ['env'], 5000)).exitCode).toBe(0), { timeout: 10_000 });
    const req = await rig.command('slack', 'UOP', `rejoin ${boot}`);
    const click = await rig.click('slack', 'UAP', cardButtons(req).approve);
    const key = rig.hs.state.preAuthKeys.at(-1)!.key;
    const argv = (await h.control.exec(boot, ['cat', '/tmp/argv'], 5000)).stdout.trim().split('\n');
    expect(argv).toEqual([
      'up',
      '--force-reauth',
      `--auth-key=${key}`,
      '--login-server=http://hs.internal:8080',
      '--accept-dns=false',
      '--hostname=laptop',
      '--advertise-routes=10.9.0.0/24',
      '--advertise-tags=tag:nas',
      '--timeout=60s',
    ]);
    const done = click.last('replace')!.fallback;
    expect(done).toContain('against http://hs.internal:8080, restating the container');
    expect(done).toContain('tailscale up exited 0');
  }, 30_000);

  function everythingPublic(...rs: RecordingResponder[]): string {
    return rs.flatMap((r) => r.sent).map((s) => allText(s.message)).join('\n') + rig.edits.map((e) => allText(e.message)).join('\n');
  }

  it('after approval: one expiring single-use key, then tailscale up --force-reauth with it; the key is shown nowhere', async () => {
    const before = keyCreations(rig).length;
    const req = await rig.command('slack', 'UOP', `rejoin ${good}`);
    expect(req.last('post')!.fallback).toContain('as user alice (owner of node laptop)');
    expect(keyCreations(rig)).toHaveLength(before);
    const click = await rig.click('slack', 'UAP', cardButtons(req).approve);

    const created = keyCreations(rig).slice(before);
    expect(created).toHaveLength(1);
    const body = created[0]!.body as { expiration?: string; reusable?: boolean; ephemeral?: boolean };
    expect(body.reusable ?? false).toBe(false);
    expect(body.ephemeral ?? false).toBe(false);
    const ttl = Date.parse(body.expiration!) - rig.clock.now;
    expect(ttl).toBe(10 * 60_000);
    const key = rig.hs.state.preAuthKeys.at(-1)!.key;
    expect(key).toMatch(/^hskey-auth-/);

    const argv = (await h.control.exec(good, ['cat', '/tmp/argv'], 5000)).stdout.trim().split('\n');
    expect(argv).toEqual(['up', '--force-reauth', `--auth-key=${key}`, `--login-server=${rig.hs.url}`, '--timeout=60s']);

    const done = click.last('replace')!;
    expect(done.fallback).toMatch(/^DONE: re-register container/);
    expect(done.fallback).toContain(`single-use key ${key.split('-').slice(0, 3).join('-')}-…`);
    expect(done.fallback).toContain('tailscale up exited 0');
    // Not expired after a successful run: the node has used it.
    expect(Date.parse(rig.hs.state.preAuthKeys.at(-1)!.expiration)).toBeGreaterThan(Date.now());

    const secret = key.split('-').at(-1)!;
    const audit = JSON.stringify(rig.router.audit.last(50));
    expect(audit).toContain('"event":"executed"');
    expect(audit).toContain(key.split('-').slice(0, 3).join('-'));
    rig.store.db.pragma('wal_checkpoint(PASSIVE)');
    for (const [where, text] of [['channel', everythingPublic(req, click)], ['audit', audit], ['log', rig.logs.join('')]] as const) {
      expect(text, where).not.toContain(secret);
    }
    expect(dbBytes(rig.dbPath).includes(Buffer.from(secret))).toBe(false);
  }, 30_000);

  it('a failing tailscale up marks the card FAILED with the exit code and masked stderr, and expires the key', async () => {
    const req = await rig.command('slack', 'UOP', `rejoin ${bad}`);
    expect(req.last('post')!.fallback).toContain('as user bob (owner of node server)');
    const click = await rig.click('slack', 'UAP', cardButtons(req).approve);

    const k = rig.hs.state.preAuthKeys.at(-1)!;
    expect(k.userId).toBe(rig.hs.state.users.find((u) => u.name === 'bob')!.id);
    // The script really received the key…
    expect((await h.control.exec(bad, ['cat', '/tmp/argv'], 5000)).stdout).toContain(`--auth-key=${k.key}`);
    // …and the fake Headscale has it expired again.
    expect(rig.hs.requests.some((r) => r.path === '/api/v1/preauthkey/expire' && (r.body as { id?: string }).id === k.id)).toBe(true);
    expect(Date.parse(k.expiration)).toBeLessThanOrEqual(Date.now());

    const card = click.last('replace')!;
    expect(card.fallback).toMatch(/^FAILED: re-register container/);
    const text = allText(card);
    expect(text).toContain('exited with code 1');
    expect(text).toContain('backend error: could not register with up --force-reauth');
    expect(text).toMatch(/Key hskey-auth-[0-9a-f]+-… was expired again/);

    const secret = k.key.split('-').at(-1)!;
    rig.store.db.pragma('wal_checkpoint(PASSIVE)');
    expect(everythingPublic(req, click)).not.toContain(secret);
    expect(JSON.stringify(rig.router.audit.last(50))).not.toContain(secret);
    expect(rig.logs.join('')).not.toContain(secret);
    expect(dbBytes(rig.dbPath).includes(Buffer.from(secret))).toBe(false);
    expect(rig.router.audit.last(5).map((e) => e.event)).toContain('failed');
  }, 30_000);
});
