import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName, testDocker } from '../support/docker.js';
import { makeSource, waitFor, type Harness } from '../docker/helpers.js';
import { cardButtons, startRig, type Rig } from '../interaction/harness.js';
import type { ContainerControl } from '../../src/actions/containers.js';

describeDocker('restart through an approval, against the real Docker engine', () => {
  const docker = testDocker();
  const name = uniqueName('hw-cmd-restart');
  let h: Harness;
  let rig: Rig;

  beforeAll(async () => {
    // sh as PID 1 with a TERM trap stops within a second, so `docker restart` does not wait for its kill timeout.
    const c = await docker.createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'],
      HostConfig: { NetworkMode: 'none' },
    });
    await c.start();
    h = makeSource({ headscaleContainer: uniqueName('no-headscale'), tailscaleContainers: [name] });
    await h.source.start();
    await waitFor('the container to be watched', () => h.source.watched().some((w) => w.name === name));
    rig = await startRig({ docker: h.control });
  });

  afterAll(async () => {
    await rig?.close();
    await h?.source.stop();
    await removeContainer(docker, name);
  });

  it('restarts the watched container once after approval; its start time changes', async () => {
    const before = (await docker.getContainer(name).inspect()).State.StartedAt;
    const req = await rig.command('slack', 'UOP', `restart ${name}`);
    const { approve } = cardButtons(req);
    // Not restarted before approval.
    expect((await docker.getContainer(name).inspect()).State.StartedAt).toBe(before);
    const click = await rig.click('slack', 'UAP', approve);
    expect(click.last('replace')!.fallback).toMatch(/^DONE: restart container/);
    const after = await docker.getContainer(name).inspect();
    expect(after.State.Running).toBe(true);
    expect(after.State.StartedAt).not.toBe(before);
    await rig.click('slack', 'UAP2', approve);
    expect((await docker.getContainer(name).inspect()).State.StartedAt).toBe(after.State.StartedAt);
  });

  it('killed after the container restarted (issue 8.4): verified by its StartedAt, card DONE, audit verified, not restarted again', async () => {
    let restarted = false;
    // The old process: the restart happens, then it is gone before it can record anything (a SIGKILL).
    const control: ContainerControl = {
      watched: () => h.source.watched(),
      exec: (n, argv, t) => h.control.exec(n, argv, t),
      startedAt: (n) => h.control.startedAt(n),
      restart: async (n) => {
        await h.control.restart(n);
        restarted = true;
        return new Promise<never>(() => undefined);
      },
    };
    const r = await startRig({ docker: control });
    try {
      r.clock.now = Date.now(); // compared with the engine's StartedAt
      const { approve } = cardButtons(await r.command('slack', 'UOP', `restart ${name}`));
      const id = r.router.approvals.pending()[0]!.id;
      void r.click('slack', 'UAP', approve);
      await waitFor('the restart to happen', () => restarted);
      const startedAt = (await docker.getContainer(name).inspect()).State.StartedAt;
      r.clock.now = Date.now();
      const router = r.restart();
      router.start(60_000);
      await router.interruptedVerified;
      const a = router.approvals.get(id)!;
      expect(a.state).toBe('done');
      expect(a.result).toMatch(new RegExp(`^completed \\(verified after restart\\): ${name} started again at .+, after the restart began at `));
      expect(r.edits.at(-1)!.message.fallback).toMatch(/^DONE: restart container/);
      expect(router.audit.forRequest(id).filter((x) => x.event === 'verified').map((x) => x.detail['outcome'])).toEqual(['completed']);
      expect((await docker.getContainer(name).inspect()).State.StartedAt).toBe(startedAt);
    } finally {
      await r.close();
    }
  });

  it('killed right after the claim, before Docker was asked: did not run (StartedAt is older than the claim)', async () => {
    const r = await startRig({ docker: h.control });
    try {
      r.clock.now = Date.now();
      await r.command('slack', 'UOP', `restart ${name}`);
      const id = r.router.approvals.pending()[0]!.id;
      r.router.approvals.vote(id, 'slack:UAP', 'ap', 'approve', r.clock.now);
      expect(r.router.approvals.move(id, 'approved', 'running', r.clock.now)).toBe(true);
      const router = r.restart();
      router.start(60_000);
      await router.interruptedVerified;
      expect(router.approvals.get(id)!.state).toBe('failed');
      expect(router.approvals.get(id)!.result).toMatch(new RegExp(`^did not run \\(verified after restart\\): ${name} has been running since `));
    } finally {
      await r.close();
    }
  });
});

