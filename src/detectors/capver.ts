import { RELEASE_LINES } from '../sources/headscale/releases.js';

/**
 * What each Headscale release accepts from Tailscale clients, and what it knows about (the table itself is in
 * sources/headscale/releases.ts, shared with the API client).
 *
 * - `minClientMinor`: the oldest Tailscale minor the release accepts (headscale.md §13; 0.22 enforces none).
 * - `newestKnownMinor`: the newest Tailscale minor the release was built to understand (for the patch given).
 *   Clients far beyond it are the juanfont/headscale#2486 storm case.
 */
export interface ReleaseCaps {
  /** Headscale minor, e.g. 29 for 0.29.x. */
  release: number;
  minCapVer?: number;
  minClientMinor?: number;
  newestKnownMinor: number;
}

/** Tailscale minor → capability version (headscale.md §13, from capver_generated.go @v0.29.2). */
const CAPVER_BY_MINOR: ReadonlyArray<[minor: number, capver: number]> = [
  [24, 32], [26, 32], [28, 32], [30, 41], [32, 46], [34, 51], [36, 56], [38, 58], [40, 61], [42, 62], [44, 63],
  [46, 65], [48, 68], [50, 74], [52, 79], [54, 79], [56, 82], [58, 85], [60, 87], [62, 88], [64, 90], [66, 95],
  [68, 97], [70, 102], [72, 104], [74, 106], [76, 106], [78, 109], [80, 113], [82, 115], [84, 116], [86, 123],
  [88, 125], [90, 130], [92, 131], [94, 131], [96, 133], [98, 138],
];

/**
 * Capabilities of a Headscale minor (and patch, where a patch learned newer clients: 0.29.8). Releases newer
 * than the table reuse the newest row: 0.30-dev's capver table is identical to 0.29.2's (headscale.md §13).
 */
export function releaseCaps(minor: number, patch?: number): ReleaseCaps | undefined {
  if (minor < 22) return undefined;
  const newest = RELEASE_LINES[RELEASE_LINES.length - 1]!;
  const line = RELEASE_LINES.find((r) => r.minor === minor) ?? (minor > newest.minor ? newest : undefined);
  if (!line) return undefined;
  let known = line.newestKnownMinor;
  if (patch !== undefined && line.minor === minor) for (const p of line.byPatch ?? []) if (patch >= p.fromPatch) known = p.newestKnownMinor;
  const caps: ReleaseCaps = { release: minor, newestKnownMinor: known };
  if (line.minCapVer !== undefined) caps.minCapVer = line.minCapVer;
  if (line.minClientMinor !== undefined) caps.minClientMinor = line.minClientMinor;
  return caps;
}

/** First Tailscale minor with at least this capability version (the reverse map Headscale logs with). */
export function capVerToMinor(capver: number): number | undefined {
  for (const [minor, cv] of CAPVER_BY_MINOR) if (cv >= capver) return minor;
  return undefined;
}

export function minorToCapVer(minor: number): number | undefined {
  let best: number | undefined;
  for (const [m, cv] of CAPVER_BY_MINOR) if (m <= minor) best = cv;
  return best;
}

export interface SemVerish {
  major: number;
  minor: number;
  patch?: number;
  /** The version as it was written, trimmed. */
  text: string;
}

/**
 * Parses `1.80.3`, `v1.80`, `1.80.3-tbd762b827`, `Client: 1.80.3`, `v0.29.2+dirty`, `0.24–0.25` (takes the
 * first number pair). Returns undefined for `dev`, empty strings and anything without major.minor.
 */
export function parseVersion(input: string | undefined): SemVerish | undefined {
  if (!input) return undefined;
  const m = /(?:^|[^\d.])v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(` ${input.trim()}`);
  if (!m) return undefined;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = m[3] !== undefined ? Number(m[3]) : undefined;
  return patch === undefined ? { major, minor, text: input.trim() } : { major, minor, patch, text: input.trim() };
}

/** Headscale minor (29 for `v0.29.2`), or undefined when the text is not a 0.x version. */
export function headscaleMinor(version: string | undefined): number | undefined {
  const v = parseVersion(version);
  return v && v.major === 0 ? v.minor : undefined;
}

export function formatMinor(minor: number): string {
  return `v1.${minor}`;
}
