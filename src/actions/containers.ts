import type { Config } from '../config/schema.js';
import type { ContainerControl } from '../sources/docker/types.js';

/**
 * Containers `restart` may touch: HEADWATCH_RESTARTABLE when set (an explicit allow-list), otherwise the
 * containers headwatch watches. Anything else on the host is out of reach of chat.
 */
export function restartable(config: Pick<Config, 'HEADWATCH_RESTARTABLE'>, docker: ContainerControl): string[] {
  if (config.HEADWATCH_RESTARTABLE && config.HEADWATCH_RESTARTABLE.length > 0) return [...config.HEADWATCH_RESTARTABLE];
  return docker.watched().map((c) => c.name);
}

export async function restartContainer(docker: ContainerControl, name: string): Promise<{ startedAt: string }> {
  return docker.restart(name);
}

/**
 * After an interrupted restart: did the container start again after `since`? undefined when Docker cannot say
 * (no engine access from here, or the container is gone).
 */
export async function restartedSince(docker: ContainerControl, name: string, since: number): Promise<{ restarted: boolean; startedAt: number } | undefined> {
  if (!docker.startedAt) return undefined;
  const started = await docker.startedAt(name);
  const at = started === undefined ? NaN : Date.parse(started);
  if (Number.isNaN(at)) return undefined;
  return { restarted: at >= since, startedAt: at };
}
