import type { Finding } from './finding.js';

/**
 * A parser turns one log line into at most one finding. It never throws: lines it does not recognise return
 * `undefined` and are counted by the caller as skipped. Parsers are stateless; pairing and counting belong to
 * the detectors.
 */
export interface LineParser {
  readonly name: 'headscale' | 'tailscale';
  parse(line: string, at: number, origin: string): Finding | undefined;
}

/** Longest line kept as alert evidence. */
export const EVIDENCE_MAX = 500;

export function evidence(line: string): string {
  return line.length > EVIDENCE_MAX ? `${line.slice(0, EVIDENCE_MAX)}…` : line;
}
