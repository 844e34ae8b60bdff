import type Docker from 'dockerode';
import type { ContainerStateFinding, Finding } from '../../parsers/finding.js';
import type { ContainerRole } from './types.js';

/** Log lines kept as evidence when a container stops. */
export const LAST_LINES = 10;

/** The container names headwatch looks for (HEADSCALE_CONTAINER, TAILSCALE_CONTAINERS) with their role. */
export type ExpectedContainer = { name: string; role: ContainerRole };

/** What the engine has, against what headwatch looks for by name: the container-missing detector's input. */
export function inventoryFinding(
  list: Docker.ContainerInfo[],
  expected: ExpectedContainer[],
  host: string,
  at: number,
  initial: boolean,
  /** Several hosts: names become `host/container` and the finding covers only this host's containers. */
  several?: { hostName: string; named: (n: string) => string; anyHost: ExpectedContainer[]; hosts: string[] },
): Finding {
  const named = several?.named ?? ((n: string) => n);
  const present = list.map((c) => ({ name: named(c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)), image: c.Image ?? '', state: c.State ?? 'unknown' }));
  return {
    kind: 'container-inventory',
    at,
    origin: 'docker',
    expected: expected.map((e) => ({ ...e, name: named(e.name) })),
    present,
    host,
    initial,
    ...(several ? { hostName: several.hostName, anyHost: { expected: several.anyHost, hosts: several.hosts } } : {}),
  };
}

/** Expected names with no container of that name in `list` (said once, on the first sync). */
export function absentNames(list: Docker.ContainerInfo[], expected: ExpectedContainer[]): ExpectedContainer[] {
  const names = new Set(list.map((c) => c.Names?.[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12)));
  return expected.filter((e) => !names.has(e.name));
}

/** What a start tells the lifecycle detector: restart count and policy, and the Tailscale auth-key settings. */
export function startDetails(insp: Docker.ContainerInspectInfo, role: ContainerRole, initial: boolean): Partial<ContainerStateFinding> {
  const details: Partial<ContainerStateFinding> = {
    restartCount: insp.RestartCount ?? 0,
    restartPolicy: insp.HostConfig?.RestartPolicy?.Name || 'no',
    ...(initial ? { initial: true } : {}),
  };
  if (role !== 'tailscale') return details;
  // Only whether they are set: the key itself never leaves the container's environment.
  const env = new Map((insp.Config?.Env ?? []).map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  const key = env.get('TS_AUTHKEY') || env.get('TS_AUTH_KEY');
  const once = (env.get('TS_AUTH_ONCE') ?? '').toLowerCase() === 'true';
  return { ...details, authKey: !key ? 'unset' : once ? 'set-with-auth-once' : 'set-without-auth-once' };
}
