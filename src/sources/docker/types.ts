/** What the rest of headwatch may know about watched containers; the Docker source keeps it up to date. */
export type ContainerRole = 'headscale' | 'tailscale';

export interface WatchedContainer {
  /** headwatch's name for it: the container name, `host/container` when several Docker hosts are watched. */
  name: string;
  /** The Docker host (HEADWATCH_DOCKER_HOSTS name, `local` for DOCKER_HOST) it runs on; unset: the only one. */
  host?: string;
  /** Its name on its own engine, when `name` is qualified with the host. */
  nameOnHost?: string;
  id: string;
  image: string;
  role: ContainerRole;
  running: boolean;
  startedAt?: string;
  /** Latest CPU sample, percent of the container's allowance. */
  cpuPercent?: number;
}

export interface WatchedContainers {
  /** Containers currently watched (by name). */
  watched(): WatchedContainer[];
}
