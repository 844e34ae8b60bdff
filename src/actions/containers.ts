import type { Config } from '../config/schema.js';
import { ambiguityMessage, resolveContainerName, splitContainerRef } from '../sources/docker/names.js';
import type { WatchedContainers } from '../sources/docker/types.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * What actions may do to containers (and what they need to know to decide): implemented by DockerControl
 * (src/actions/docker-control.ts) over the watched list the Docker source keeps.
 */
export interface ContainerControl extends WatchedContainers {
  /** Restarts a container by name and resolves with its new start time. */
  restart(name: string): Promise<{ startedAt: string }>;
  /** The container's State.StartedAt (RFC 3339), or undefined when no such container exists. */
  startedAt?(name: string): Promise<string | undefined>;
  /** Runs argv (never a shell string) inside a running container. */
  exec(name: string, argv: string[], timeoutMs?: number): Promise<ExecResult>;
  /** The Docker hosts' names (one: `local` for DOCKER_HOST). */
  hosts?(): string[];
}

/**
 * The container a command names, by headwatch's names (`host/container` with several hosts): the exact name,
 * or a plain name watched on exactly one host. A plain name watched on two hosts is an error listing both.
 * A name that is not watched is returned as given (an allow-list may still permit it).
 */
export function resolveCommandTarget(docker: ContainerControl, input: string): { name: string } | { error: string } {
  const wanted = input.replace(/^\//, '');
  const r = resolveContainerName(wanted, docker.watched().map((c) => c.name));
  if (r.kind === 'ambiguous') return { error: ambiguityMessage(wanted, r.candidates) };
  return { name: r.kind === 'found' ? r.name : wanted };
}

/**
 * Whether `name` (headwatch's name for a container) is in `allowed`: an entry naming it exactly, or a
 * `host/container` / plain entry (any host) meaning it. With one host, a plain name is on that host.
 */
export function permits(allowed: string[], name: string, docker: Pick<ContainerControl, 'hosts'>): boolean {
  const ref = splitContainerRef(name);
  const hosts = docker.hosts?.() ?? [];
  const host = ref.host ?? (hosts.length === 1 ? hosts[0] : undefined);
  return allowed.some((entry) => {
    if (entry === name) return true;
    const e = splitContainerRef(entry);
    return e.container === ref.container && (e.host === undefined || e.host === host);
  });
}

/**
 * Containers `restart` may touch: HEADWATCH_RESTARTABLE when set (an explicit allow-list), otherwise the
 * containers headwatch watches. Anything else on the host is out of reach of chat.
 */
export function restartable(config: Pick<Config, 'HEADWATCH_RESTARTABLE'>, docker: WatchedContainers): string[] {
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
