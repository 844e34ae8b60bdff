import type { WatchedContainer } from './types.js';

/**
 * How containers are named across Docker hosts. With one host a container is its plain name (as before there
 * were hosts); with several it is `host/container` everywhere headwatch shows or keys it (alerts, fingerprints,
 * incidents, commands), so the same container name on two hosts is two things. Settings and commands accept
 * `host/container`, or a plain name meaning that name on any host.
 */

/** A container as a command or button names it: `name`, `/name` or `host/name` (Docker's name charset). */
export const CONTAINER_REF = /^\/?(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,31}\/)?[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** `host/container` → both parts; a plain name (or a leading `/` as Docker prints it) has no host. */
export function splitContainerRef(ref: string): { host?: string; container: string } {
  const r = ref.replace(/^\//, '');
  const i = r.indexOf('/');
  return i > 0 ? { host: r.slice(0, i), container: r.slice(i + 1) } : { container: r };
}

/** The name headwatch shows for `container` on `host`: qualified only when several hosts are watched. */
export function qualifiedName(host: string, container: string, severalHosts: boolean): string {
  return severalHosts ? `${host}/${container}` : container;
}

/** Whether a setting's entry (`host/container`, or a plain name meaning any host) means this container. */
export function settingMatches(entry: string, host: string, container: string): boolean {
  const ref = splitContainerRef(entry);
  return ref.container === container && (ref.host === undefined || ref.host === host);
}

/** The container's name on its own engine (what the Docker API knows it by). */
export function nameOnHost(c: Pick<WatchedContainer, 'name' | 'nameOnHost'>): string {
  return c.nameOnHost ?? splitContainerRef(c.name).container;
}

export type Resolved = { kind: 'found'; name: string } | { kind: 'none' } | { kind: 'ambiguous'; candidates: string[] };

/**
 * Which of `names` (headwatch's names: plain with one host, `host/container` with several) a user's `input`
 * means: the exact name, else a plain name matching one container on any host. Two hosts with that name are
 * ambiguous: the caller lists the candidates and asks for `host/container`.
 */
export function resolveContainerName(input: string, names: string[]): Resolved {
  const wanted = input.replace(/^\//, '');
  if (names.includes(wanted)) return { kind: 'found', name: wanted };
  if (splitContainerRef(wanted).host !== undefined) return { kind: 'none' };
  const candidates = names.filter((n) => splitContainerRef(n).container === wanted);
  if (candidates.length === 1) return { kind: 'found', name: candidates[0]! };
  if (candidates.length > 1) return { kind: 'ambiguous', candidates };
  return { kind: 'none' };
}

export function ambiguityMessage(input: string, candidates: string[]): string {
  return `"${input}" is on more than one Docker host (${candidates.join(', ')}); say which with host/container, e.g. ${candidates[0]}`;
}
