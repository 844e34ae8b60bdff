import { createRequire } from 'node:module';
import { expect, it } from 'vitest';
import { dockerClient } from '../../src/sources/docker/host.js';

/**
 * dockerode's BuildKit session and docker-modem's SSH transport are loaded only when used (src/sources/docker/
 * lean-dockerode.ts): an ssh:// DOCKER_HOST must still reach the SSH client, and nothing else loads them.
 */
const require = createRequire(import.meta.url);
const loaded = (pkg: string) => Object.keys(require.cache).some((k) => k.includes(`/node_modules/${pkg}/`));

it('defers gRPC and ssh2 until used, and an ssh:// DOCKER_HOST still connects over SSH', async () => {
  expect(loaded('@grpc/grpc-js')).toBe(false);
  expect(loaded('ssh2')).toBe(false);
  const docker = dockerClient('ssh://headwatch@127.0.0.1:1');
  // Port 1 refuses: the error comes from ssh2's client, which therefore loaded and ran.
  await expect(docker.ping()).rejects.toThrow(/ECONNREFUSED|connect/);
  expect(loaded('ssh2')).toBe(true);
  expect(loaded('@grpc/grpc-js')).toBe(false);
});
