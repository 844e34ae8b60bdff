import Docker from 'dockerode';
import { describe } from 'vitest';

/**
 * Docker-backed suites run against a real engine (DOCKER_HOST). Locally they skip with a message when no
 * engine answers; in CI HEADWATCH_REQUIRE_DOCKER=1 turns a missing engine into a failure instead.
 */
export const TEST_IMAGE = 'headwatch-test/busybox:1';

export async function dockerReachable(): Promise<boolean> {
  try {
    await new Docker().ping();
    return true;
  } catch {
    return false;
  }
}

const available = await dockerReachable();
if (!available && process.env.HEADWATCH_REQUIRE_DOCKER === '1') {
  throw new Error(
    `HEADWATCH_REQUIRE_DOCKER=1 but no Docker engine answers at ${process.env.DOCKER_HOST ?? 'the default socket'}; start one with .ci/dockerd.sh`,
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
