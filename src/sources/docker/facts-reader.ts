import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Finding } from '../../parsers/finding.js';
import { factsFromInspect, type ContainerFacts, type InspectLike } from './facts.js';
import { dockerClient } from './host.js';
import type { WatchedContainer } from './types.js';

export interface ContainerFactsReaderOptions {
  dockerHost?: string;
  /** HEADWATCH_SSH_KNOWN_HOSTS, for a DOCKER_HOST that is ssh://. */
  knownHosts?: string;
  /** The containers the Docker source watches (name, id, role). */
  watched: () => WatchedContainer[];
  logger?: Logger;
  /** Injected for tests; default: a client for dockerHost. */
  docker?: Pick<Docker, 'getContainer'>;
  /** Several Docker hosts: the client of the host a container is on. */
  clientFor?: (host: string) => Pick<Docker, 'getContainer'> | undefined;
}

/**
 * Keeps `docker inspect` facts (TS_HOSTNAME, network mode, login server, auth-key settings, restart count) of the
 * watched containers for the incident topology and diagnosis. Read again when a container starts or the source
 * re-syncs (a compose recreate changes them), never on the alert path: facts() answers from memory. Secrets
 * never enter the cache (factsFromInspect keeps only whether TS_AUTHKEY is set).
 */
export class ContainerFactsReader {
  private readonly docker: Pick<Docker, 'getContainer'>;
  private readonly cache = new Map<string, ContainerFacts & { id: string; role: WatchedContainer['role'] }>();
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly o: ContainerFactsReaderOptions) {
    this.docker = o.docker ?? dockerClient(o.dockerHost, undefined, o.knownHosts);
  }

  facts(name: string): (ContainerFacts & { id?: string }) | undefined {
    return this.cache.get(name.replace(/^\//, ''));
  }

  tailscale(): ContainerFacts[] {
    return [...this.cache.values()].filter((f) => f.role === 'tailscale');
  }

  /** Findings that mean the facts may have changed: a (re)start, a restart loop counting up, a re-sync. */
  observe(f: Finding): void {
    if (f.kind === 'container-state') {
      if (f.state === 'destroy') this.cache.delete(f.origin);
      else if (f.state === 'start' || f.state === 'restart' || f.state === 'die') void this.refresh(f.origin, f.containerId, f.role);
    } else if (f.kind === 'container-inventory') {
      void this.refreshAll();
    }
  }

  /** Reads every watched container once (at start, after a re-sync); forgets containers no longer watched. */
  async refreshAll(): Promise<void> {
    const watched = this.o.watched();
    const names = new Set(watched.map((c) => c.name));
    for (const name of this.cache.keys()) if (!names.has(name)) this.cache.delete(name);
    await Promise.all(watched.map((c) => this.refresh(c.name)));
  }

  /** One inspect per container at a time; a failure keeps what was known (the engine may be restarting). */
  refresh(name: string, id?: string, role?: WatchedContainer['role']): Promise<void> {
    const running = this.inFlight.get(name);
    if (running) return running;
    const p = this.read(name, id, role).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  private async read(name: string, id?: string, role?: WatchedContainer['role']): Promise<void> {
    const w = this.o.watched().find((c) => c.name === name);
    const ref = w?.id ?? id;
    const as = w?.role ?? role;
    if (!ref || !as) return;
    try {
      const client = (w?.host !== undefined ? this.o.clientFor?.(w.host) : undefined) ?? this.docker;
      const insp = (await client.getContainer(ref).inspect()) as unknown as InspectLike & { Id: string };
      this.cache.set(name, { ...factsFromInspect(insp), name, id: insp.Id, role: as });
    } catch (err) {
      this.o.logger?.debug({ container: name, err: (err as Error).message }, 'container facts not read; keeping the last known');
    }
  }
}
