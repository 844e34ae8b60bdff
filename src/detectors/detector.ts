import type { Alert, DetectorEvent } from '../alerts/model.js';
import type { Finding } from '../parsers/finding.js';

/**
 * A state machine over findings for one concern. Pure and clock-injected: `at` on findings and `now` on
 * ticks are the only clocks, so tests drive time. Each detector has separate fire and clear conditions
 * (hysteresis) and stable fingerprints.
 */
export interface Detector {
  readonly name: string;
  observe(finding: Finding): DetectorEvent[];
  /** Periodic evaluation: windows slide, quiet periods end, alerts clear. */
  tick(now: number): DetectorEvent[];
  /** JSON-serialisable state, saved so a restart continues where it left off. */
  snapshot(): unknown;
  /** Restores a snapshot; `firing` are the stored firing alerts of this detector's kinds. */
  restore(state: unknown, firing: Alert[]): void;
}

/**
 * Restores per-container state kept by name (CPU, RATELIMIT): the saved records, each marked firing exactly when a
 * stored alert of `kind` for it fires, and a fresh record (from `empty`) for a firing alert the snapshot lacks, so
 * that it still resolves.
 */
export function restoreByName<T extends { name: string; firing: boolean }>(into: Map<string, T>, saved: T[] | undefined, firing: Alert[], kind: string, empty: (name: string) => T): void {
  for (const c of saved ?? []) into.set(c.name, { ...c });
  const names = new Set(firing.filter((a) => a.kind === kind).map((a) => a.subject));
  for (const c of into.values()) c.firing = names.has(c.name);
  for (const name of names) if (!into.has(name)) into.set(name, { ...empty(name), firing: true });
}
