import Docker from 'dockerode';
import { describe } from 'vitest';
import { dockerClient } from '../../src/sources/docker/host.js';

/**
 * Docker-backed suites run against a real engine. Locally they skip with a message when no engine answers; in
 * CI HEADWATCH_REQUIRE_DOCKER=1 turns a missing engine into a failure instead.
 *
 * Two ways in, on purpose. headwatch's own code reaches Docker at DOCKER_HOST — in CI that is the socket proxy
 * (deploy/docker-proxy/haproxy.cfg), so every Docker test proves headwatch needs no call beyond its rules. The
 * tests themselves play the operator who runs the containers: creating, stopping and removing them is exactly
 * what the proxy refuses, so fixtures use the raw engine at HEADWATCH_TEST_ENGINE (unset: DOCKER_HOST as well).
 */
export const TEST_IMAGE = 'headwatch-test/busybox:1';

/** The raw engine, for setting up and tearing down test containers (never for the code under test). */
export const TEST_ENGINE = process.env.HEADWATCH_TEST_ENGINE || process.env.DOCKER_HOST || undefined;

export function testDocker(): Docker {
  return dockerClient(TEST_ENGINE);
}

async function answers(docker: Docker): Promise<boolean> {
  try {
    await docker.ping();
    return true;
  } catch {
    return false;
  }
}

export async function dockerReachable(): Promise<boolean> {
  return (await answers(new Docker())) && (await answers(testDocker()));
}

const available = await dockerReachable();
if (!available && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error(
    `HEADWATCH_REQUIRE_DOCKER=1 but no Docker engine answers at ${process.env.DOCKER_HOST ?? 'the default socket'}` +
      `${TEST_ENGINE !== process.env.DOCKER_HOST ? ` (test engine ${TEST_ENGINE})` : ''}; start one with .ci/dockerd.sh`,
  );
}
if (!available) {
  console.warn(`[skip] Docker engine not reachable at ${process.env.DOCKER_HOST ?? 'default socket'}: Docker tests skipped`);
}

export const describeDocker = available ? describe : describe.skip;

/** Names unique per test run so parallel files never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function removeContainer(docker: Docker, name: string): Promise<void> {
  try {
    await docker.getContainer(name).remove({ force: true });
  } catch {
    /* already gone */
  }
}
