import Docker from 'dockerode';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeDocker, removeContainer, TEST_IMAGE, uniqueName } from '../support/docker.js';
import { makeSource, waitFor, type Harness } from '../docker/helpers.js';
import { cardButtons, startRig, type Rig } from '../interaction/harness.js';

describeDocker('restart through an approval, against the real Docker engine', () => {
  const docker = new Docker();
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
    rig = await startRig({ docker: h.source });
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
});
