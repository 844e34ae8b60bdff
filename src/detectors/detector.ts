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
