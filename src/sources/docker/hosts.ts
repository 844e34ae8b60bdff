import type { DockerHostSetting } from '../../config/docker-hosts.js';
import { DockerSource, type DockerSourceOptions, type DockerStatus } from './source.js';
import type { WatchedContainer, WatchedContainers } from './types.js';

export interface HostStatus extends DockerStatus {
  /** The host's name (HEADWATCH_DOCKER_HOSTS, `local` for DOCKER_HOST). */
  host: string;
  /** Where it is, for messages. */
  where: string;
}

export interface DockerHostsOptions extends Omit<DockerSourceOptions, 'dockerHost' | 'tls' | 'knownHosts' | 'hostName' | 'allHosts' | 'onStatus' | 'logCursor'> {
  hosts: DockerHostSetting[];
  /** Where each host's container logs were left: keyed by host name and the container's name on that host. */
  logCursor?: { saved(host: string, container: string): ReturnType<NonNullable<DockerSourceOptions['logCursor']>['saved']>; catchupMaxMs: number };
  /** One host's reachability changed. With one host `host` is left out, as before there were several. */
  onStatus: (s: DockerStatus & { host?: string; where?: string }) => void;
}

/**
 * Every Docker engine headwatch watches, each with its own pipeline (connection and backoff, events, discovery,
 * logs, CPU): one host that does not answer delays and stalls nothing on the others. With one host everything
 * is as before (plain container names, one `docker` status); with several, containers are `host/container`.
 */
export class DockerHosts implements WatchedContainers {
  readonly sources: DockerSource[];
  readonly several: boolean;

  constructor(private readonly o: DockerHostsOptions) {
    this.several = o.hosts.length > 1;
    const { hosts, logCursor, ...common } = o;
    this.sources = hosts.map(
      (h) =>
        new DockerSource({
          ...common,
          hostName: h.name,
          allHosts: hosts.map((x) => x.name),
          ...(h.url ? { dockerHost: h.url } : {}),
          ...(h.tls ? { tls: h.tls } : {}),
          ...(h.knownHosts ? { knownHosts: h.knownHosts } : {}),
          ...(logCursor ? { logCursor: { saved: (name: string) => logCursor.saved(h.name, name), catchupMaxMs: logCursor.catchupMaxMs } } : {}),
          onStatus: (s) => {
            if (!this.several) return o.onStatus(s);
            o.metrics.up.set({ dependency: 'docker' }, this.status().reachable ? 1 : 0);
            o.onStatus({ ...s, host: h.name, where: this.sources.find((x) => x.hostName === h.name)?.where ?? h.name });
          },
        }),
    );
  }

  /** Connects to every host at once; each waits at most a few seconds and keeps retrying in the background. */
  async start(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.stop()));
  }

  /** Reachable when every host is; otherwise names each host that is not, and why. */
  status(): DockerStatus {
    const all = this.hosts();
    const down = all.filter((h) => !h.reachable);
    if (down.length === 0) return { reachable: true, since: Math.max(...all.map((h) => h.since)) };
    const error = this.several ? down.map((h) => `${h.host}: ${h.error ?? 'not reachable'}`).join('; ') : down[0]!.error;
    return { reachable: false, ...(error ? { error } : {}), since: Math.min(...down.map((h) => h.since)) };
  }

  /** Each host's reachability, in configuration order. */
  hosts(): HostStatus[] {
    return this.sources.map((s) => ({ ...s.status(), host: s.hostName, where: s.where }));
  }

  watched(): WatchedContainer[] {
    return this.sources.flatMap((s) => s.watched());
  }
}
