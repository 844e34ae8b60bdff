/**
 * What headwatch knows about Headscale releases (headscale.md §5, §13, §19): which API shape each minor
 * speaks, the newest patch of each line, and the minimum and newest Tailscale clients each accepts or knows.
 * One table, used by the API client (shape selection, "newer than headwatch knows"), the version-skew
 * detector (capabilities) and the daily report (newest known release).
 */

export interface ReleaseLine {
  /** Headscale minor, e.g. 29 for 0.29.x. */
  minor: number;
  /** Newest patch release of the line; undefined while the line is unreleased (0.30 on main). */
  latestPatch?: number;
  /** Minimum capability version accepted (none enforced by 0.22). */
  minCapVer?: number;
  /** Oldest Tailscale minor accepted. */
  minClientMinor?: number;
  /**
   * Newest Tailscale minor the release was built to understand: the last row of its generated capver table
   * (0.25+), or its go.mod `tailscale.com` version (0.22–0.24). `byPatch` overrides it from a patch on.
   */
  newestKnownMinor: number;
  byPatch?: Array<{ fromPatch: number; newestKnownMinor: number }>;
}

export const RELEASE_LINES: readonly ReleaseLine[] = [
  { minor: 22, latestPatch: 3, newestKnownMinor: 38 },
  { minor: 23, latestPatch: 0, minCapVer: 61, minClientMinor: 40, newestKnownMinor: 72 },
  { minor: 24, latestPatch: 3, minCapVer: 82, minClientMinor: 56, newestKnownMinor: 78 },
  { minor: 25, latestPatch: 1, minCapVer: 88, minClientMinor: 62, newestKnownMinor: 80 },
  { minor: 26, latestPatch: 1, minCapVer: 88, minClientMinor: 62, newestKnownMinor: 82 },
  { minor: 27, latestPatch: 1, minCapVer: 90, minClientMinor: 64, newestKnownMinor: 84 },
  { minor: 28, latestPatch: 0, minCapVer: 106, minClientMinor: 74, newestKnownMinor: 92 },
  // 0.29.0–0.29.2 know up to v1.98 (capver 138); 0.29.8 (2026-11-26) fixed peers' capability versions for
  // v1.106 clients (juanfont/headscale#3724). The minimum stays v1.80 (capver 113) through 0.29.x.
  { minor: 29, latestPatch: 8, minCapVer: 113, minClientMinor: 80, newestKnownMinor: 98, byPatch: [{ fromPatch: 8, newestKnownMinor: 106 }] },
  // 0.30 is unreleased on main (@f20f1f12): same capver table and minimum as 0.29.2.
  { minor: 30, minCapVer: 113, minClientMinor: 80, newestKnownMinor: 98 },
];

/** Oldest and newest API shapes the client speaks; newer servers are spoken to like the newest. */
export const OLDEST_SHAPE = 22;
export const NEWEST_SHAPE = 30;

/**
 * The newest Headscale release headwatch was built and tested against (its API shapes and log lines). The
 * daily report compares the running server with it; bump it with the table when a release is added.
 */
export const NEWEST_KNOWN_RELEASE = '0.29.8';

export function releaseLine(minor: number): ReleaseLine | undefined {
  return RELEASE_LINES.find((r) => r.minor === minor);
}

/** `v0.29.2` → 29; undefined for anything that is not a 0.x version (`dev`). */
export function minorOf(version: string | undefined): number | undefined {
  const m = version ? /^v?0\.(\d+)/.exec(version.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

export function patchOf(version: string | undefined): number | undefined {
  const m = version ? /^v?0\.\d+\.(\d+)/.exec(version.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

export function clampShape(minor: number): number {
  return Math.min(NEWEST_SHAPE, Math.max(OLDEST_SHAPE, minor));
}

/**
 * A Go pseudo-version (`v0.29.3-0.20260721112835-f20f1f127842`): a build of an untagged commit, whose numbers
 * name the last tag before it, not the API it serves — a build of main reports 0.29.3 while speaking 0.30.
 */
export function isPseudoVersion(version: string): boolean {
  return /-(?:0\.)?\d{14}-[0-9a-f]{12}/.test(version);
}

/** What to tell operators when the server is outside what headwatch knows, or undefined when it is not. */
export function releaseNote(minor: number, version: string): string | undefined {
  if (minor > NEWEST_SHAPE) return `0.${minor} is newer than headwatch knows; using the 0.${NEWEST_SHAPE} API`;
  if (minor < OLDEST_SHAPE) return `0.${minor} is older than headwatch supports; using the 0.${OLDEST_SHAPE} API`;
  const line = releaseLine(minor);
  if (line && line.latestPatch === undefined) return `0.${minor} is not released yet (${version}); using its API as on main`;
  const patch = patchOf(version);
  if (line?.latestPatch !== undefined && patch !== undefined && patch > line.latestPatch) {
    return `0.${minor}.${patch} is newer than the newest 0.${minor} headwatch knows (0.${minor}.${line.latestPatch}); using the 0.${minor} API`;
  }
  return undefined;
}

/** Compares dotted versions (`0.29.1` < `0.29.2` < `0.30.0`); undefined when either is not plain x.y[.z]. */
export function compareVersions(a: string, b: string): number | undefined {
  const pa = parseDotted(a);
  const pb = parseDotted(b);
  if (!pa || !pb) return undefined;
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return 0;
}

function parseDotted(v: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}
