import { existsSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { recoverInterrupted, runReregister, type ReregisterDeps } from '../../src/incidents/playbook.js';
import { playbookCard } from '../../src/incidents/message.js';
import type { PlaybookRun } from '../../src/incidents/playbook-model.js';
import { freshSteps } from '../../src/incidents/playbook-model.js';
import { createLogger } from '../../src/log/logger.js';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { PlaybookRepository } from '../../src/store/playbooks.js';
import type { Store } from '../../src/store/db.js';
import { startFakeHeadscale, type FakeHeadscale, type FakeRelease } from '../fakes/headscale/index.js';
import { makeSource, type Harness } from '../docker/helpers.js';
import { describeDocker, removeContainer, TEST_IMAGE, testDocker, uniqueName } from '../support/docker.js';
import { tempStore } from './helpers.js';

const API_KEY = 'hskey-api-playbookplay-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';

/** A `tailscale` that records its argv to /tmp/argv and exits with `code`. */
function fakeTailscale(code: number): string[] {
  const lines = ['#!/bin/sh', 'for a in "$@"; do echo "$a"; done > /tmp/argv', ...(code ? ['echo "backend error: invalid key" >&2'] : []), `exit ${code}`];
  const printf = `printf '%s\\n' ${lines.map((l) => `'${l}'`).join(' ')} > /bin/tailscale`;
  return ['sh', '-c', `${printf} && busybox chmod 755 /bin/tailscale && busybox ln -sf busybox /bin/env && exec sleep 600`];
}

function dbBytes(store: Store): Buffer {
  store.db.pragma('wal_checkpoint(PASSIVE)');
  return Buffer.concat([store.path, `${store.path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p)));
}

describeDocker('Re-register playbook against the real Docker engine and the fake Headscale', () => {
  const docker = testDocker();
  const good = uniqueName('hw-pb-ok');
  const bad = uniqueName('hw-pb-bad');
  let h: Harness;
  let hs: FakeHeadscale;
  let store: Store;
  let repo: PlaybookRepository;
  let logs: string[];
  let progress: PlaybookRun[];

  beforeAll(async () => {
    for (const [name, code] of [[good, 0], [bad, 1]] as const) {
      const c = await docker.createContainer({ name, Image: TEST_IMAGE, Env: ['TS_HOSTNAME=nas-01', 'TS_EXTRA_ARGS=--login-server=https://hs.example.com'], Cmd: fakeTailscale(code), HostConfig: { NetworkMode: 'none' } });
      await c.start();
    }
    h = makeSource({ headscaleContainer: uniqueName('no-headscale'), tailscaleContainers: [good, bad] });
    await h.source.start();
    await vi.waitFor(() => expect(h.source.watched().map((w) => w.name).sort()).toEqual([good, bad].sort()), { timeout: 15_000 });
    for (const name of [good, bad]) {
      await vi.waitFor(async () => expect((await h.control.exec(name, ['cat', '/bin/tailscale'], 5000)).stdout).toContain('exit'), { timeout: 10_000 });
    }
  }, 60_000);

  afterAll(async () => {
    await hs?.close();
    await h?.source.stop();
    await removeContainer(docker, good);
    await removeContainer(docker, bad);
  });

  async function setup(release: FakeRelease = '0.29', tags: string[] = []) {
    hs = await startFakeHeadscale({ release, apiKey: API_KEY, nodes: [{ name: 'nas-01', user: 'alice', tags }] });
    store = tempStore();
    repo = new PlaybookRepository(store);
    logs = [];
    progress = [];
    const sink = new Writable({
      write(chunk: Buffer, _e, cb) {
        logs.push(chunk.toString());
        cb();
      },
    });
    return { logger: createLogger('debug', sink), headscale: new HeadscaleClient({ url: hs.url, apiKey: API_KEY, timeoutMs: 5000 }) };
  }

  function deps(base: Awaited<ReturnType<typeof setup>>, over: Partial<ReregisterDeps> = {}): ReregisterDeps {
    return {
      ...base,
      docker: h.control,
      repo,
      clock: Date.now,
      defaultLoginServer: hs.url,
      waitMs: 10_000,
      pollMs: 100,
      onProgress: (run) => {
        progress.push(run);
        // Headscale registers the node while `tailscale up` runs: the fake does what the real one would.
        const rejoin = run.steps.find((s) => s.name === 'rejoin')!;
        if (rejoin.state === 'done' && !hs.state.nodes.some((n) => n.name === 'nas-01' && n.online && n.id !== '1') && over.waitMs === undefined) {
          hs.addNode({ name: 'nas-01', user: 'alice', online: true });
        }
      },
      ...over,
    };
  }

  const node = (tags: string[] = []) => ({ id: '1', name: 'nas-01', user: 'alice', tags });

  beforeEach(async () => {
    await hs?.close();
  });

  it('runs every step once, in order, shows each as it happens, and reports the new node id', async () => {
    const base = await setup();
    const run = await runReregister(deps(base), { container: good, node: node(), requestedBy: 'alice (slack:U1)', approvedBy: 'bob (slack:U2)', incidentId: 4 });
    expect(run.state).toBe('done');
    expect(run.steps.map((s) => [s.name, s.state])).toEqual([
      ['create-key', 'done'],
      ['delete-node', 'done'],
      ['rejoin', 'done'],
      ['wait-online', 'done'],
      ['report', 'done'],
    ]);
    expect(run.newNodeId).toBe('2');
    // Each step was shown running before it was shown done.
    const seen = progress.map((p) => p.steps.map((s) => s.state[0]).join(''));
    expect(seen.slice(0, 4)).toEqual(['rpppp', 'dpppp', 'drppp', 'ddppp']);
    expect(hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    expect(hs.requestsTo('POST', '/api/v1/node/1/expire')).toHaveLength(1);
    const keys = hs.requestsTo('POST', '/api/v1/preauthkey');
    expect(keys).toHaveLength(1);
    const body = keys[0]!.body as { user?: string; reusable?: boolean; expiration: string; aclTags?: string[] };
    expect(body.user).toBe(hs.state.users.find((u) => u.name === 'alice')!.id);
    expect(body.reusable ?? false).toBe(false);
    expect(Date.parse(body.expiration) - Date.now()).toBeGreaterThan(9 * 60_000);
    const key = hs.state.preAuthKeys[0]!.key;
    const argv = (await h.control.exec(good, ['cat', '/tmp/argv'], 5000)).stdout.trim().split('\n');
    expect(argv).toEqual(['up', '--force-reauth', `--auth-key=${key}`, '--login-server=https://hs.example.com', '--accept-dns=false', '--hostname=nas-01', '--timeout=60s']);
    // The used key is left alone; the secret is nowhere but in the container's argv.
    expect(hs.requestsTo('POST', '/api/v1/preauthkey/expire')).toHaveLength(0);
    const secret = key.split('-').at(-1)!;
    const card = playbookCard(run, `Re-register ${good}`);
    for (const [where, text] of [['card', JSON.stringify(card)], ['progress', JSON.stringify(progress)], ['log', logs.join('')]] as const) expect(text, where).not.toContain(secret);
    expect(dbBytes(store).includes(Buffer.from(secret))).toBe(false);
    expect(card.fallback).toMatch(/^DONE: Re-register/);
    expect(repo.get(run.id)).toMatchObject({ state: 'done', newNodeId: '2', key: { id: hs.state.preAuthKeys[0]!.id } });
  }, 30_000);

  it('a tagged node on 0.28+ gets a key carrying its tags instead of a user', async () => {
    const base = await setup('0.29', ['tag:nas']);
    const run = await runReregister(deps(base), { container: good, node: node(['tag:nas']), requestedBy: 'alice' });
    expect(run.state).toBe('done');
    const body = hs.requestsTo('POST', '/api/v1/preauthkey')[0]!.body as { user?: string; aclTags?: string[] };
    expect(body.user ?? '').toBe('');
    expect(body.aclTags).toEqual(['tag:nas']);
    expect(run.steps[0]!.detail).toMatch(/carrying tag:nas, single-use/);
  }, 30_000);

  it('Headscale refusing the delete stops the run: nothing is exec’d and the key is expired again', async () => {
    const base = await setup();
    hs.injectAnswer({ path: '/api/v1/node/1', method: 'DELETE', status: 500, body: JSON.stringify({ code: 2, message: 'database is locked', details: [] }), contentType: 'application/json' });
    await h.control.exec(good, ['busybox', 'rm', '-f', '/tmp/argv'], 5000).catch(() => undefined);
    const run = await runReregister(deps(base), { container: good, node: node(), requestedBy: 'alice' });
    expect(run.state).toBe('failed');
    expect(run.steps.map((s) => s.state)).toEqual(['done', 'failed', 'pending', 'pending', 'pending']);
    expect(run.steps[1]!.detail).toMatch(/Headscale refused to delete node 1: .*database is locked/);
    expect((await h.control.exec(good, ['cat', '/tmp/argv'], 5000)).exitCode).not.toBe(0);
    const k = hs.state.preAuthKeys[0]!;
    expect(hs.requestsTo('POST', '/api/v1/preauthkey/expire')).toHaveLength(1);
    expect(Date.parse(k.expiration)).toBeLessThanOrEqual(Date.now());
    const card = JSON.stringify(playbookCard(run, 're-register'));
    expect(card).toContain('FAILED: re-register');
    expect(card).toMatch(/Undone: key hskey-auth-[0-9a-f]+-… expired again/);
    expect(card).toContain('Node 1 is still registered');
    expect(card).toContain('— not run');
  }, 30_000);

  it('a failing exec stops the run after the delete, says so, and expires the key', async () => {
    const base = await setup();
    const run = await runReregister(deps(base), { container: bad, node: node(), requestedBy: 'alice' });
    expect(run.steps.map((s) => s.state)).toEqual(['done', 'done', 'failed', 'pending', 'pending']);
    expect(run.steps[2]!.detail).toContain('exited with code 1');
    expect(run.steps[2]!.detail).toContain('backend error: invalid key');
    expect(run.key?.expiredAgain).toBe(true);
    expect(run.next).toContain(`run \`/headscale rejoin ${bad}\``);
    expect(JSON.stringify(run)).not.toContain(hs.state.preAuthKeys[0]!.key.split('-').at(-1)!);
  }, 30_000);

  it('a node that does not come back before the bound stops the run and expires the key', async () => {
    const base = await setup();
    const run = await runReregister(deps(base, { waitMs: 1500 }), { container: good, node: node(), requestedBy: 'alice' });
    expect(run.steps.map((s) => s.state)).toEqual(['done', 'done', 'done', 'failed', 'pending']);
    expect(run.steps[3]!.detail).toBe('no node named nas-01 came online within 2 s');
    expect(run.undone).toEqual([expect.stringMatching(/^key hskey-auth-\w+-… expired again$/)]);
    expect(run.next).toContain(`docker logs ${good}`);
  }, 30_000);

  it('a run interrupted by a restart is never continued: running steps become unknown and the key is expired', async () => {
    const base = await setup();
    const created = await base.headscale.createPreAuthKey({ user: 'alice', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 600_000), tags: [] });
    const steps = freshSteps();
    steps[0] = { name: 'create-key', state: 'done', detail: 'key …' };
    steps[1] = { name: 'delete-node', state: 'running' };
    const stuck = repo.create({ container: good, node: node(), requestedBy: 'alice', state: 'running', steps, undone: [], startedAt: Date.now(), updatedAt: Date.now(), key: { id: created.id, prefix: 'hskey-auth-x-…', expires: Date.now() + 600_000, user: 'alice', tags: [] } });
    const recovered = await recoverInterrupted({ headscale: base.headscale, repo, logger: base.logger, clock: Date.now });
    expect(recovered.map((r) => r.id)).toEqual([stuck.id]);
    const after = repo.get(stuck.id)!;
    expect(after.state).toBe('interrupted');
    expect(after.steps.map((s) => s.state)).toEqual(['done', 'unknown', 'pending', 'pending', 'pending']);
    expect(after.undone[0]).toMatch(/expired again after the restart/);
    expect(Date.parse(hs.state.preAuthKeys[0]!.expiration)).toBeLessThanOrEqual(Date.now());
    expect(after.next).toContain('it is not run again by itself');
    expect(hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);
    expect(await recoverInterrupted({ headscale: base.headscale, repo, logger: base.logger, clock: Date.now })).toEqual([]);
  }, 30_000);
});

describe('playbook card', () => {
  it('says what was done, undone and what to do next', () => {
    const steps = freshSteps().map((s, i) => (i === 0 ? { ...s, state: 'done' as const, detail: 'key k… for user alice' } : i === 1 ? { ...s, state: 'failed' as const, detail: 'Headscale refused' } : s));
    const card = playbookCard(
      { id: 3, container: 'ts', node: { id: '7', name: 'nas', tags: [] }, requestedBy: 'alice', approvedBy: 'bob', state: 'failed', steps, undone: ['key k… expired again'], next: 'Delete it by hand.', startedAt: 0, updatedAt: 0 },
      'Re-register ts',
    );
    const text = card.blocks.map((b) => JSON.stringify(b)).join('\n');
    expect(card.fallback).toBe('FAILED: Re-register ts — Expire and delete the node: failed (Headscale refused)');
    expect(text).toContain('✅ 1. Create a single-use key valid 10 min — key k… for user alice');
    expect(text).toContain('❌ 2. Expire and delete the node — Headscale refused');
    expect(text).toContain('▫️ 3. Re-join the container (tailscale up --force-reauth) — not run');
    expect(text).toContain('Done: create a single-use key valid 10 min.');
    expect(text).toContain('Undone: key k… expired again.');
    expect(text).toContain('Next: Delete it by hand.');
  });
});
