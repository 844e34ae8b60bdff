/** What the rest of headwatch may know about watched containers; the Docker source keeps it up to date. */
export type ContainerRole = 'headscale' | 'tailscale';

export interface WatchedContainer {
  name: string;
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
