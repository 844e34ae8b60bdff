import type { Finding } from '../parsers/finding.js';
import type { ContainerFacts } from '../sources/docker/facts.js';
import type { TopologySource } from './topology.js';
import type { IncidentFacts } from './view.js';

/** What the Docker source knows about the watched containers' configuration. */
export interface ContainerFactsSource {
  /** Facts of a watched container (Tailscale or Headscale), with its id. */
  facts(name: string): (ContainerFacts & { id?: string }) | undefined;
  /** Facts of every watched Tailscale container. */
  tailscale(): ContainerFacts[];
}

/**
 * The incident code's view of the world: containers from Docker, nodes from the last API poll, and versions
 * as the findings report them (the Headscale release from the API or its startup line, `tailscale version`
 * per container). Read-only; fed by the same findings the detectors see.
 */
export class IncidentWorld implements TopologySource, IncidentFacts {
  private server: { version: string; from: string } | undefined;
  private readonly clients = new Map<string, string>();

  constructor(
    private readonly docker: ContainerFactsSource,
    private readonly polled: () => { id: string; name: string; givenName?: string }[],
    /** HEADSCALE_CONTAINER, or (several Docker hosts) the watched Headscale container's `host/container` name. */
    private readonly headscale: string | (() => string),
    /** Containers `restart` may touch (src/actions/containers.ts restartable()). */
    private readonly mayRestart?: (name: string) => boolean,
  ) {}

  get headscaleContainer(): string {
    return typeof this.headscale === 'string' ? this.headscale : this.headscale();
  }

  restartable(name: string): boolean {
    return this.mayRestart ? this.mayRestart(name) : this.docker.facts(name) !== undefined;
  }

  observe(f: Finding): void {
    if (f.kind === 'server-version') {
      // The API's answer is the precise one; a log line may only say what the container started as.
      if (this.server && this.server.from === 'headscale-api' && f.origin !== 'headscale-api' && this.server.version.replace(/^v/, '') === f.version.replace(/^v/, '')) return;
      this.server = { version: f.version.replace(/^v/, ''), from: f.origin };
    } else if (f.kind === 'client-version' && !f.nodeId) {
      this.clients.set(f.origin, f.version);
    }
  }

  containers(): ContainerFacts[] {
    return this.docker.tailscale();
  }

  container(name: string): (ContainerFacts & { id?: string }) | undefined {
    return this.docker.facts(name);
  }

  nodes(): { id: string; name: string; givenName?: string }[] {
    return this.polled();
  }

  clientVersion(container: string): string | undefined {
    return this.clients.get(container);
  }

  serverVersion(): { version?: string; from?: string } {
    return this.server ? { version: this.server.version, from: this.server.from } : {};
  }
}
