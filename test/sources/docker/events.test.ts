import { expect, it } from 'vitest';
import { EventStream, type DockerEvent } from '../../../src/sources/docker/events.js';
import { dockerClient } from '../../../src/sources/docker/host.js';
import { describeDocker } from '../../support/docker.js';
import { dockerTestScope, runContainer, waitFor } from '../../docker/helpers.js';

const { docker, name } = dockerTestScope();

describeDocker('EventStream against a real engine', () => {
  // The engine answers before it subscribes: an event in that gap reaches headwatch only through `since`.
  it('replays the events since the moment given, then streams new ones', async () => {
    const c = name('ev');
    const before = Date.now() - 1000;
    const container = await runContainer(docker, { name: c, cmd: ['sh', '-c', 'sleep 60'] });
    const engine = dockerClient(process.env.DOCKER_HOST);
    const life = new AbortController();
    const open = async (sinceMs: number) => {
      const got: DockerEvent[] = [];
      const stream = new EventStream();
      await stream.open(engine, life.signal, sinceMs, () => true, (ev) => got.push(ev), () => {});
      return { got, stream, of: (action: string) => got.some((e) => (e.Action ?? e.status) === action && e.Actor?.Attributes?.name === c) };
    };
    const replayed = await open(before);
    const live = await open(Date.now());
    try {
      await waitFor('the start event, from the engine buffer', () => replayed.of('start'));
      await container.kill();
      await waitFor('the die event on both streams', () => replayed.of('die') && live.of('die'));
      expect(live.of('start')).toBe(false);
    } finally {
      replayed.stream.close();
      live.stream.close();
      life.abort();
    }
  });
});
