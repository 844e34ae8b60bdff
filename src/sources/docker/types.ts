/** What the rest of headwatch may know and do about watched containers; implemented by the Docker source. */
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

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ContainerControl {
  /** Containers currently watched (by name). */
  watched(): WatchedContainer[];
  /** Restarts a container by name and resolves with its new start time. */
  restart(name: string): Promise<{ startedAt: string }>;
  /** The container's State.StartedAt (RFC 3339), or undefined when no such container exists. */
  startedAt?(name: string): Promise<string | undefined>;
  /** Runs argv (never a shell string) inside a running container. */
  exec(name: string, argv: string[], timeoutMs?: number): Promise<ExecResult>;
}
