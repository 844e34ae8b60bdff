import { appendEvidence, fingerprint, type Alert, type AlertKind, type DetectorEvent, type Severity } from '../alerts/model.js';
import { dropUpTo } from './window.js';

/**
 * Shared bookkeeping for "N matching lines within a window fire; a quiet period clears" alerts (TLS, auth,
 * API keys, control path, map stream, user rules). One entry per fingerprint holds its own thresholds, so
 * different subjects (or user rules) can count differently. Hysteresis: firing needs `count` hits inside
 * `windowMs` (or an `immediate` hit); clearing needs `quietMs` without any hit, or an explicit `clear`.
 */

export interface Threshold {
  count: number;
  windowMs: number;
  quietMs: number;
}

export interface HitSpec extends Threshold {
  kind: AlertKind;
  subject: string;
  severity: Severity;
  labels?: Record<string, string>;
  /** Fires on this hit whatever the count (a line that is a diagnosis on its own). */
  immediate?: boolean;
  /** Summary for the alert, given the hits in the window and in total. */
  summary: (inWindow: number, total: number) => string;
}

interface Entry extends Threshold {
  fingerprint: string;
  kind: AlertKind;
  subject: string;
  severity: Severity;
  labels: Record<string, string>;
  hits: number[];
  total: number;
  lastAt: number;
  firing: boolean;
  evidence: string[];
  lastUpdateAt: number;
  summary: string;
}

/** Minimum spacing of "still happening" updates, so a flood is not a database write per line. */
const UPDATE_EVERY_MS = 30_000;
const MAX_HITS = 10_000;

export class EvidenceBook {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly kinds: ReadonlySet<AlertKind>,
    private readonly evidenceLines = 5,
  ) {}

  hit(spec: HitSpec, at: number, line: string | undefined): DetectorEvent[] {
    const fp = fingerprint(spec.kind, spec.subject);
    let e = this.entries.get(fp);
    if (!e) {
      e = { fingerprint: fp, kind: spec.kind, subject: spec.subject, severity: spec.severity, labels: spec.labels ?? {}, hits: [], total: 0, lastAt: at, firing: false, evidence: [], lastUpdateAt: 0, summary: '', count: spec.count, windowMs: spec.windowMs, quietMs: spec.quietMs };
      this.entries.set(fp, e);
    }
    // A harsher severity sticks for the life of the alert (a fatal line after warnings escalates it).
    if (rank(spec.severity) > rank(e.severity) || !e.firing) e.severity = spec.severity;
    e.labels = { ...e.labels, ...spec.labels };
    e.count = spec.count;
    e.windowMs = spec.windowMs;
    e.quietMs = spec.quietMs;
    e.hits.push(at);
    // shift(), not splice(0, k): V8 trims the front of a large array in place, so a full list stays O(1) a hit
    // (a flood of matches in one window was a 10,000-element copy per line).
    while (e.hits.length > MAX_HITS) e.hits.shift();
    dropUpTo(e.hits, at - e.windowMs, (t) => t);
    e.total++;
    e.lastAt = Math.max(e.lastAt, at);
    if (line) e.evidence = appendEvidence(e.evidence, line, this.evidenceLines);
    e.summary = spec.summary(e.hits.length, e.total);
    if (!e.firing) {
      if (!spec.immediate && e.hits.length < e.count) return [];
      e.firing = true;
      e.lastUpdateAt = at;
      return [{ action: 'fire', alert: draft(e) }];
    }
    if (at - e.lastUpdateAt < UPDATE_EVERY_MS) return [];
    e.lastUpdateAt = at;
    return [{ action: 'update', alert: draft(e) }];
  }

  /** Resolves a firing alert at once (the condition is known to be over, e.g. the client is Running again). */
  clear(kind: AlertKind, subject: string, summary: string): DetectorEvent[] {
    const fp = fingerprint(kind, subject);
    const e = this.entries.get(fp);
    if (!e) return [];
    this.entries.delete(fp);
    return e.firing ? [{ action: 'resolve', fingerprint: fp, summary }] : [];
  }

  /** Subjects currently tracked for a kind (firing or counting). */
  subjects(kind: AlertKind): string[] {
    return [...this.entries.values()].filter((e) => e.kind === kind).map((e) => e.subject);
  }

  tick(now: number, resolvedSummary: (subject: string, total: number, quietMs: number) => string): DetectorEvent[] {
    const out: DetectorEvent[] = [];
    for (const e of this.entries.values()) {
      if (e.firing) {
        if (now - e.lastAt >= e.quietMs) {
          this.entries.delete(e.fingerprint);
          out.push({ action: 'resolve', fingerprint: e.fingerprint, summary: resolvedSummary(e.subject, e.total, e.quietMs) });
        }
      } else {
        dropUpTo(e.hits, now - e.windowMs, (t) => t);
        if (e.hits.length === 0) this.entries.delete(e.fingerprint);
      }
    }
    return out;
  }

  snapshot(): unknown {
    return { entries: [...this.entries.values()] };
  }

  restore(state: unknown, firing: Alert[]): void {
    const mine = firing.filter((a) => this.kinds.has(a.kind));
    const firingFps = new Set(mine.map((a) => a.fingerprint));
    for (const e of (state as { entries?: Entry[] } | undefined)?.entries ?? []) {
      // A saved entry that fired but whose alert is no longer firing was resolved elsewhere (or by hand).
      if (e.firing && !firingFps.has(e.fingerprint)) continue;
      this.entries.set(e.fingerprint, { ...e, hits: [...e.hits], evidence: [...e.evidence] });
    }
    // An alert stored as firing without saved state must still be able to clear.
    for (const a of mine) {
      if (this.entries.has(a.fingerprint)) continue;
      const at = Date.parse(a.updatedAt);
      this.entries.set(a.fingerprint, { fingerprint: a.fingerprint, kind: a.kind, subject: a.subject, severity: a.severity, labels: a.labels, hits: [at], total: 1, lastAt: at, firing: true, evidence: a.evidence, lastUpdateAt: at, summary: a.summary, count: 1, windowMs: 600_000, quietMs: 900_000 });
    }
  }
}

function rank(s: Severity): number {
  return s === 'critical' ? 2 : s === 'warning' ? 1 : 0;
}

function draft(e: Entry) {
  return { fingerprint: e.fingerprint, kind: e.kind, severity: e.severity, subject: e.subject, summary: e.summary, evidence: e.evidence, labels: { ...e.labels, hits: String(e.total) } };
}
