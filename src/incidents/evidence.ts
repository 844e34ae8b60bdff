import type { Finding } from '../parsers/finding.js';

/**
 * Lines that are evidence for a cause without being alerts of their own (a client's `invalid key`, an
 * `unexpected HTTP response 400`, containerboot giving up on auth), and container starts: kept per origin
 * for the incident window so a diagnosis can quote them. Bounded per origin; nothing here is a secret that
 * was not already in a log line, and lines pass the same masking as alert evidence before they are shown.
 */
export interface NotableLine {
  at: number;
  origin: string;
  /** The finding kind that made it notable. */
  kind: string;
  line: string;
}

const PER_ORIGIN = 30;
const MAX_LINE = 300;

/** Login and key failures as tailscaled, containerboot and Headscale word them (tailscale.md §3.2, §3.5, §4.2). */
export const AUTH_FAILURE =
  /invalid key|authkey expired|authkey already used|invalid (?:pre ?auth ?key|authkey)|API key does not exist|NeedsLogin|You are logged out|failed to auth tailscale|register request: http 401/i;
/** A proxy answering the /ts2021 upgrade with something else than 101 (tailscale.md §8.2). */
export const PROXY_ANSWER = /unexpected HTTP response:? [2345]\d\d|server switched to unexpected protocol/i;

function notable(f: Finding): string | undefined {
  switch (f.kind) {
    case 'control-error':
      return f.class !== 'other' || AUTH_FAILURE.test(f.error) || PROXY_ANSWER.test(f.error) || /connection attempts aborted|TLS forced/.test(f.error)
        ? (f.line ?? `Received error: ${f.error}`)
        : undefined;
    case 'ipn-state':
      return f.to === 'NeedsLogin' ? (f.line ?? `Switching ipn state ${f.from} -> ${f.to}`) : undefined;
    case 'health':
      return !f.ok && f.warnable === 'login-state' ? f.line ?? `health(warnable=login-state): error: ${f.text ?? ''}` : undefined;
    case 'boot':
      return f.event === 'auth-failed' || f.event === 'needs-login' || f.event === 'left-running' ? f.line ?? `boot: ${f.message}` : undefined;
    case 'forced-443':
    case 'proxy-no-upgrade':
    case 'unsupported-client':
      return f.line ?? f.kind;
    case 'noise-upgrade-failed':
      return f.line ?? `noise upgrade failed: ${f.cause}`;
    default:
      return undefined;
  }
}

export class EvidenceLog {
  private readonly lines = new Map<string, NotableLine[]>();
  private readonly starts = new Map<string, number[]>();

  constructor(private readonly windowMs: number) {}

  observe(f: Finding): void {
    if (f.kind === 'container-state') {
      if (f.state !== 'start' && f.state !== 'restart') return;
      const list = this.starts.get(f.origin) ?? [];
      list.push(f.at);
      this.starts.set(f.origin, trim(list, f.at - this.windowMs, (t) => t).slice(-100));
      return;
    }
    const line = notable(f);
    if (line === undefined) return;
    const list = this.lines.get(f.origin) ?? [];
    list.push({ at: f.at, origin: f.origin, kind: f.kind, line: line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line });
    this.lines.set(f.origin, trim(list, f.at - this.windowMs, (l) => l.at).slice(-PER_ORIGIN));
  }

  /** Notable lines of these origins within the window before `now`, oldest first. */
  recent(origins: string[], now: number): NotableLine[] {
    const since = now - this.windowMs;
    return origins.flatMap((o) => (this.lines.get(o) ?? []).filter((l) => l.at >= since)).sort((a, b) => a.at - b.at);
  }

  /** Container (re)starts seen within the window. */
  startsOf(container: string, now: number): number {
    return (this.starts.get(container) ?? []).filter((t) => t >= now - this.windowMs).length;
  }
}

function trim<T>(list: T[], since: number, at: (x: T) => number): T[] {
  let i = 0;
  while (i < list.length && at(list[i]!) < since) i++;
  return i === 0 ? list : list.slice(i);
}
