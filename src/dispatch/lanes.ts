import type { Alert } from '../alerts/model.js';
import { ConfigError } from '../config/load.js';
import type { Destination } from '../destinations/destination.js';
import { parseRoutes, routeAlert, type Route } from './routes.js';

/**
 * A lane is one destination channel with its own order: `slack:C0123`, `discord:99…`, `console`, `webhook`.
 * Grouping, the notification log, the storm digest and the outbox all work per lane.
 */
export interface Lane {
  key: string;
  /** The destination's name. */
  destination: string;
  /** chat: channel messages (post, edit, thread replies); alerts: alert batches (console, webhook). */
  kind: Destination['kind'];
  channelId?: string;
  /** alerts lanes only: the destination also wants content updates of firing alerts (the console). */
  updates?: boolean;
}

export interface LaneTarget {
  lane: Lane;
  destination: Destination;
}

/** HEADWATCH_ROUTES resolved against the configured destinations: which lanes an alert goes to. */
export class Lanes {
  /** Every lane a route can reach, by key (the outbox runner's targets). */
  readonly targets = new Map<string, LaneTarget>();
  private readonly routes: Route[];

  constructor(
    private readonly destinations: readonly Destination[],
    routesSpec: string | undefined,
  ) {
    const known = destinations.map((d) => d.name);
    const spec = routesSpec?.trim();
    this.routes = spec ? parseRoutes(spec, known, destinations.filter((d) => d.kind === 'chat').map((d) => d.name)) : [{ to: known }];
    // Resolved up front, so a route that needs an unset default channel stops headwatch at start, naming the setting.
    for (const route of this.routes) for (const dest of route.to) this.resolve(dest);
  }

  /** The lanes of an alert's first matching route, without those of destination `exclude` (platform-down). */
  forAlert(alert: Pick<Alert, 'kind' | 'subject' | 'severity'>, exclude?: string): Lane[] {
    const out: Lane[] = [];
    for (const dest of routeAlert(this.routes, alert)) {
      const t = this.resolve(dest);
      if (!t || (exclude !== undefined && t.lane.destination === exclude)) continue;
      if (!out.some((l) => l.key === t.lane.key)) out.push(t.lane);
    }
    return out;
  }

  get(key: string): LaneTarget | undefined {
    return this.targets.get(key);
  }

  /** A route's destination key (`slack`, `slack:C123`, `webhook`) as its lane, created once. */
  private resolve(dest: string): LaneTarget | undefined {
    if (dest === 'none') return undefined;
    const [name, explicit] = dest.split(':') as [string, string | undefined];
    const destination = this.destinations.find((d) => d.name === name);
    if (!destination) return undefined;
    let lane: Lane;
    if (destination.kind === 'chat') {
      const channelId = explicit ?? destination.defaultChannel;
      if (!channelId) throw new ConfigError([`${destination.channelSetting ?? name}: required to send alerts to ${name}`]);
      lane = { key: `${name}:${channelId}`, destination: name, kind: 'chat', channelId };
    } else {
      lane = { key: name, destination: name, kind: 'alerts', ...(destination.wantsUpdates ? { updates: true } : {}) };
    }
    let t = this.targets.get(lane.key);
    if (!t) this.targets.set(lane.key, (t = { lane, destination }));
    return t;
  }
}
