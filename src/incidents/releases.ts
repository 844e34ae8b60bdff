import { headscaleMinor } from '../detectors/capver.js';

/**
 * Headscale releases for upgrade advice (headscale.md §0, §16, §19). Only the newest minor line gets fixes:
 * 0.29.3 … 0.29.8 shipped after 0.29, nothing for 0.28 (inferred from the release list), so 0.29 is the oldest
 * maintained line. Since 0.29 an upgrade may not skip a minor (juanfont/headscale#3083) and 0.28 dropped
 * migrations from databases older than 0.25, so advice names the next minor, then the rest one at a time.
 */
export const LATEST_PATCH: Readonly<Record<number, string>> = {
  22: '0.22.3',
  23: '0.23.0',
  24: '0.24.3',
  25: '0.25.1',
  26: '0.26.1',
  27: '0.27.1',
  28: '0.28.0',
  29: '0.29.8',
};
export const NEWEST_MINOR = 29;
export const OLDEST_MAINTAINED_MINOR = 29;
export const NEWEST_RELEASE = LATEST_PATCH[NEWEST_MINOR]!;

function patchOf(version: string): number | undefined {
  const m = /^v?0\.\d+\.(\d+)/.exec(version.trim());
  return m ? Number(m[1]) : undefined;
}

/**
 * The releases to step through from `version` to the newest, one minor at a time (the first is the one to
 * move to now). Empty when already on the newest release or newer; undefined for an unreadable version.
 */
export function upgradePath(version: string): string[] | undefined {
  const minor = headscaleMinor(version);
  if (minor === undefined) return undefined;
  if (minor > NEWEST_MINOR) return [];
  const path: string[] = [];
  const latest = LATEST_PATCH[minor];
  const patch = patchOf(version);
  // Behind on patches of the same line (e.g. 0.29.2 → 0.29.8): that patch first.
  if (latest && patch !== undefined && patch < (patchOf(latest) ?? 0)) path.push(latest);
  for (let m = minor + 1; m <= NEWEST_MINOR; m++) {
    const p = LATEST_PATCH[m];
    if (p) path.push(p);
  }
  return path;
}

export function isMaintained(version: string): boolean | undefined {
  const minor = headscaleMinor(version);
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
