import { minorOf, patchOf, RELEASE_LINES } from '../sources/headscale/releases.js';

/**
 * Upgrade advice from the one release table (src/sources/headscale/releases.ts). Only the newest released
 * minor line gets fixes: 0.29.3 … 0.29.8 shipped after 0.29, nothing for 0.28 (inferred from the release
 * list), so it is the oldest maintained line. Since 0.29 an upgrade may not skip a minor
 * (juanfont/headscale#3083) and 0.28 dropped migrations from databases older than 0.25, so advice names the
 * next minor, then the rest one at a time.
 */
const RELEASED = RELEASE_LINES.filter((l) => l.latestPatch !== undefined);
export const NEWEST_MINOR = Math.max(...RELEASED.map((l) => l.minor));
export const OLDEST_MAINTAINED_MINOR = NEWEST_MINOR;

function latestOf(minor: number): string | undefined {
  const line = RELEASED.find((l) => l.minor === minor);
  return line ? `0.${line.minor}.${line.latestPatch}` : undefined;
}

export const NEWEST_RELEASE = latestOf(NEWEST_MINOR)!;

/**
 * The releases to step through from `version` to the newest, one minor at a time (the first is the one to
 * move to now). Empty when already on the newest release or newer; undefined for an unreadable version.
 */
export function upgradePath(version: string): string[] | undefined {
  const minor = minorOf(version);
  if (minor === undefined) return undefined;
  if (minor > NEWEST_MINOR) return [];
  const path: string[] = [];
  const latest = RELEASED.find((l) => l.minor === minor)?.latestPatch;
  const patch = patchOf(version);
  // Behind on patches of the same line (e.g. 0.29.2 → 0.29.8): that patch first.
  if (latest !== undefined && patch !== undefined && patch < latest) path.push(latestOf(minor)!);
  for (let m = minor + 1; m <= NEWEST_MINOR; m++) {
    const p = latestOf(m);
    if (p) path.push(p);
  }
  return path;
}

export function isMaintained(version: string): boolean | undefined {
  const minor = minorOf(version);
  return minor === undefined ? undefined : minor >= OLDEST_MAINTAINED_MINOR;
}

/**
 * The image reference with the new release, written the way the current one is (`v` prefix or not, same
 * repository). Undefined when the image is not recognisably a Headscale image (a tag cannot be guessed then).
 */
export function imageWith(image: string, release: string): string | undefined {
  const ref = image.split('@')[0]!;
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  const repo = colon > slash ? ref.slice(0, colon) : ref;
  const tag = colon > slash ? ref.slice(colon + 1) : '';
  if (!/headscale/i.test(repo)) return undefined;
  return `${repo}:${tag.startsWith('v') ? 'v' : ''}${release}`;
}
