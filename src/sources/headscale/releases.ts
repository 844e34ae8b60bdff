/**
 * The newest Headscale release headwatch was built and tested against (its API shapes and log lines). The
 * daily report compares the running server with it; bump it with the client when a release is added.
 */
export const NEWEST_KNOWN_RELEASE = '0.29.2';

/** Compares dotted versions (`0.29.1` < `0.29.2` < `0.30.0`); undefined when either is not plain x.y[.z]. */
export function compareVersions(a: string, b: string): number | undefined {
  const pa = parse(a);
  const pb = parse(b);
  if (!pa || !pb) return undefined;
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pa[i]! < pb[i]! ? -1 : 1;
  return 0;
}

function parse(v: string): number[] | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}
