import type Docker from 'dockerode';
import type { Logger } from 'pino';
import type { Alert, AlertTransition } from '../alerts/model.js';
import type { Config } from '../config/schema.js';
import type { IncidentLookup } from '../destinations/destination.js';
import type { Finding } from '../parsers/finding.js';
import type { ImageAttachment } from '../messages/model.js';
import { permits, restartable } from '../actions/containers.js';
import { ContainerFactsReader } from '../sources/docker/facts-reader.js';
import type { WatchedContainer } from '../sources/docker/types.js';
import type { Store } from '../store/db.js';
import { IncidentPosts } from '../store/incident-posts.js';
import { IncidentRepository } from '../store/incidents.js';
import { PlaybookRepository } from '../store/playbooks.js';
import type { Silence } from '../store/silences.js';
import type { Incident } from './model.js';
import { incidentFingerprint, incidentOfFingerprint } from './actions.js';
import type { SilenceControl } from '../actions/silences.js';
import { IncidentPublisher, type IncidentChannels } from './publisher.js';
import { MEMBER_KINDS } from './scope.js';
import { IncidentService } from './service.js';
import { IncidentWorld } from './world.js';

export interface IncidentsOptions {
  config: Pick<Config, 'HEADSCALE_CONTAINER' | 'DOCKER_HOST' | 'HEADWATCH_INCIDENT_WINDOW' | 'HEADWATCH_INCIDENT_SERVER_NODES' | 'HEADWATCH_NODE_MAP' | 'HEADWATCH_GROUP_WAIT'> &
    Partial<Pick<Config, 'HEADWATCH_RESTARTABLE' | 'HEADWATCH_SSH_KNOWN_HOSTS'>>;
  store: Store;
  logger: Logger;
  clock: () => number;
  /** Containers the Docker source watches. */
  watched: () => WatchedContainer[];
  /** Several Docker hosts: the client of a host (container facts are read from the container's own engine). */
  clientFor?: (host: string) => Pick<Docker, 'getContainer'> | undefined;
  /** Nodes of the last API poll. */
  nodes: () => { id: string; name: string; givenName?: string }[];
  alerts: { get(fingerprint: string): Alert | undefined };
  silences: { matching(a: { fingerprint: string; kind: string; subject: string }): Silence | undefined };
  channels: IncidentChannels;
  /** A member's picture for the incident's first post (the CPU chart). */
  imageFor?(alert: Alert): ImageAttachment | undefined;
  /** Incidents opened and resolved (the daily report's counts). */
  onIncident?: (change: 'opened' | 'resolved', scope: Incident['scope'], at: number) => void;
}

/** The incident side of headwatch as the composition root sees it: alerts and findings in, messages out. */
export interface Incidents {
  readonly service: IncidentService;
  readonly publisher: IncidentPublisher;
  /** Correlates an alert change and records what its incident message must show. */
  handle(t: AlertTransition): void;
  /** True for alerts shown in an incident's message instead of on their own (kept off the chat lanes). */
  isMember(alert: Alert): boolean;
  observe(f: Finding): void;
  /** The member alert's incident, for the webhook and console. */
  lookup: IncidentLookup;
  /** The dispatcher's silences, redrawing an incident's message at once when a silence names it. */
  silences(control: SilenceControl): SilenceControl;
  start(): Promise<void>;
  stop(): void;
}

/** How often open incidents are checked for a silence added or ended (the message says so). */
const SILENCE_CHECK_MS = 10_000;

export function buildIncidents(o: IncidentsOptions): Incidents {
  const repo = new IncidentRepository(o.store);
  const posts = new IncidentPosts(o.store);
  const facts = new ContainerFactsReader({
    watched: o.watched,
    logger: o.logger,
    ...(o.config.DOCKER_HOST ? { dockerHost: o.config.DOCKER_HOST } : {}),
    ...(o.config.HEADWATCH_SSH_KNOWN_HOSTS ? { knownHosts: o.config.HEADWATCH_SSH_KNOWN_HOSTS } : {}),
    ...(o.clientFor ? { clientFor: o.clientFor } : {}),
  });
  // The Restart button only where `restart` would not refuse the container (a plain allow-list entry means any host).
  const mayRestart = (name: string) => permits(restartable({ HEADWATCH_RESTARTABLE: o.config.HEADWATCH_RESTARTABLE }, { watched: o.watched }), name, {});
  // With several hosts the Headscale container is `host/headscale`, whichever host watches it.
  const world = new IncidentWorld(facts, o.nodes, () => o.watched().find((c) => c.role === 'headscale')?.name ?? o.config.HEADSCALE_CONTAINER, mayRestart);
  const silenceOf = (i: Incident) => o.silences.matching({ fingerprint: incidentFingerprint(i.id), kind: 'incident', subject: `incident ${i.id}` });
  let publisher: IncidentPublisher | undefined;
  const service = new IncidentService({
    incidents: repo,
    playbooks: new PlaybookRepository(o.store),
    alerts: o.alerts,
    world,
    nodeMap: o.config.HEADWATCH_NODE_MAP ?? new Map(),
    windowMs: o.config.HEADWATCH_INCIDENT_WINDOW,
    serverNodes: o.config.HEADWATCH_INCIDENT_SERVER_NODES,
    aheadMarginMinors: 4,
    silencedNote: (i) => {
      const s = silenceOf(i);
      return s ? `🔕 Silenced by ${s.createdBy} until ${new Date(s.expiresAt).toISOString()}: no thread updates meanwhile; this message stays current.` : undefined;
    },
    onChanged: (id, note) => publisher?.changed(id, note),
  });
  publisher = new IncidentPublisher({
    posts,
    incidents: service,
    channels: o.channels,
    silenced: (i) => silenceOf(i) !== undefined,
    postWaitMs: o.config.HEADWATCH_GROUP_WAIT,
    ...(o.imageFor ? { imageFor: o.imageFor } : {}),
    clock: o.clock,
    logger: o.logger.child({ component: 'incidents' }),
  });
  const shownSilence = new Map<number, string | undefined>();
  let silenceTimer: NodeJS.Timeout | undefined;
  const checkSilences = () => {
    try {
      for (const i of repo.open()) {
        if (posts.posts(i.id).length === 0) continue;
        const s = silenceOf(i)?.id;
        if (shownSilence.has(i.id) && shownSilence.get(i.id) !== s) publisher!.changed(i.id);
        shownSilence.set(i.id, s);
      }
    } catch (err) {
      // A refused or failed read (database away): the next check catches up; the timer must not take the process down.
      o.logger.warn({ component: 'incidents', err: (err as Error).message }, 'could not check incident silences; will retry');
    }
  };

  return {
    service,
    publisher,
    handle(t) {
      const transitions = posts.transaction(() => {
        const c = service.handle(t).transitions;
        publisher!.noteTransitions(c);
        return c;
      });
      for (const x of transitions) if (x.change === 'opened' || x.change === 'resolved') o.onIncident?.(x.change, x.incident.scope, x.at);
    },
    isMember: (a) => MEMBER_KINDS.has(a.kind) && repo.membershipOf(a.fingerprint) !== undefined,
    observe(f) {
      service.observe(f);
      facts.observe(f);
    },
    lookup: (fingerprint) => {
      const found = service.payloadOf(fingerprint, o.clock());
      return found ? { payload: found.payload as unknown as { id: number } & Record<string, unknown>, line: found.line } : undefined;
    },
    silences(control) {
      const touched = (s: Silence | undefined) => {
        const id = s && s.matcher === 'fingerprint' ? incidentOfFingerprint(s.value) : undefined;
        if (id !== undefined) publisher!.changed(id);
        return s;
      };
      return { ...control, create: (n) => touched(control.create(n))!, expire: (idOrPrefix) => touched(control.expire(idOrPrefix)) };
    },
    async start() {
      await facts.refreshAll();
      publisher!.start();
      silenceTimer = setInterval(checkSilences, SILENCE_CHECK_MS);
      silenceTimer.unref();
    },
    stop() {
      publisher!.stop();
      if (silenceTimer) clearInterval(silenceTimer);
    },
  };
}
