/**
 * What each Headscale release accepts from Tailscale clients, and what it knows about.
 *
 * - `minClientMinor`: the oldest Tailscale minor the release accepts (headscale.md §13; 0.22 enforces none).
 * - `newestKnownMinor`: the newest Tailscale minor the release was built to understand. For 0.25+ it is the
 *   last row of the release's generated capver table (`hscontrol/capver/capver_generated.go` at the tag); for
 *   0.22–0.24, which have no table, it is the `tailscale.com` module version in the tag's go.mod
 *   (v1.38.4, v1.72.1, v1.79.0-pre → 1.78). Clients far beyond it are the juanfont/headscale#2486 storm case.
 */
export interface ReleaseCaps {
  /** Headscale minor, e.g. 29 for 0.29.x. */
  release: number;
  minCapVer?: number;
  minClientMinor?: number;
  newestKnownMinor: number;
}

const RELEASES: ReleaseCaps[] = [
  { release: 22, newestKnownMinor: 38 },
  { release: 23, minCapVer: 61, minClientMinor: 40, newestKnownMinor: 72 },
  { release: 24, minCapVer: 82, minClientMinor: 56, newestKnownMinor: 78 },
  { release: 25, minCapVer: 88, minClientMinor: 62, newestKnownMinor: 80 },
  { release: 26, minCapVer: 88, minClientMinor: 62, newestKnownMinor: 82 },
  { release: 27, minCapVer: 90, minClientMinor: 64, newestKnownMinor: 84 },
  { release: 28, minCapVer: 106, minClientMinor: 74, newestKnownMinor: 92 },
  { release: 29, minCapVer: 113, minClientMinor: 80, newestKnownMinor: 98 },
];

/** Tailscale minor → capability version (headscale.md §13, from capver_generated.go @v0.29.2). */
const CAPVER_BY_MINOR: ReadonlyArray<[minor: number, capver: number]> = [
  [24, 32], [26, 32], [28, 32], [30, 41], [32, 46], [34, 51], [36, 56], [38, 58], [40, 61], [42, 62], [44, 63],
  [46, 65], [48, 68], [50, 74], [52, 79], [54, 79], [56, 82], [58, 85], [60, 87], [62, 88], [64, 90], [66, 95],
  [68, 97], [70, 102], [72, 104], [74, 106], [76, 106], [78, 109], [80, 113], [82, 115], [84, 116], [86, 123],
  [88, 125], [90, 130], [92, 131], [94, 131], [96, 133], [98, 138],
];

/**
 * Capabilities of a Headscale minor. Releases newer than the table (0.30-dev…) reuse the newest row: the
 * 0.30-dev capver table is identical to 0.29.2's (headscale.md §13).
 */
export function releaseCaps(minor: number): ReleaseCaps | undefined {
  if (minor < 22) return undefined;
  const exact = RELEASES.find((r) => r.release === minor);
  if (exact) return exact;
  const newest = RELEASES[RELEASES.length - 1]!;
  return minor > newest.release ? { ...newest, release: minor } : undefined;
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
