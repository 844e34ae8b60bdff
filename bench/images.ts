import { execFileSync } from 'node:child_process';
import type Docker from 'dockerode';
import { dockerClient } from '../src/sources/docker/host.js';

export const TEST_IMAGE = 'headwatch-test/busybox:1';

/**
 * Makes the busybox test image on the engine at DOCKER_HOST when it is missing (a fresh engine has none and no
 * registry is reachable), with the same script CI uses, so a benchmark never fails on "No such image".
 */
export async function ensureTestImage(docker: Docker, dockerHost = process.env.DOCKER_HOST): Promise<void> {
  try {
    await docker.getImage(TEST_IMAGE).inspect();
    return;
  } catch {
    /* missing: make it */
  }
  process.stderr.write(`[bench] making ${TEST_IMAGE} on ${dockerHost ?? 'the default engine'}\n`);
  const env = dockerHost ? { ...process.env, DOCKER_HOST: dockerHost } : process.env;
  execFileSync('bash', ['.ci/test-image.sh'], { stdio: ['ignore', 'inherit', 'inherit'], env });
}

/**
 * Where benchmarks make their fixtures (the image, containers): the raw engine when HEADWATCH_TEST_ENGINE names one,
 * else DOCKER_HOST. headwatch itself keeps using DOCKER_HOST, which in CI is the socket proxy, and the proxy refuses
 * creating containers and images, as it should.
 */
export function fixtureEngine(): { docker: Docker; host: string | undefined } {
  const host = process.env.HEADWATCH_TEST_ENGINE || process.env.DOCKER_HOST || undefined;
  return { docker: dockerClient(host), host };
}
