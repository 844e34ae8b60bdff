import { classifyControlError, controlPeer } from './control-errors.js';
import type { BootFinding, ControlErrorFinding, Finding } from './finding.js';
import { readGoQuoted } from './gostring.js';
import { evidence, type LineParser } from './parser.js';

/**
 * tailscaled and containerboot lines as `docker logs` shows them (tailscale.md §1):
 *
 *   2025/03/17 15:05:32 [RATELIMIT] format("health(warnable=%s): ok")
 *   boot: 2024/09/19 15:32:40 Starting tailscaled
 *
 * Both prefixes are optional (journal-trimmed reports, `TS_DEBUG_LOG_RATE`-free dev builds). A leading Docker
 * RFC 3339 timestamp (logs fetched with `timestamps: true`) is skipped too.
 */

const GO_DATE = /\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(?:\.\d+)? /y;

const RATELIMIT = '[RATELIMIT] format(';
const RATE_LIMITED_OLD = '[RATE LIMITED] format string ';
const RECEIVED_ERROR = 'Received error: ';
const LONG_POLL_TIMEOUT = 'control: map response long-poll timed out!';
const FORCED_443 = 'control: controlhttp: forcing port 443 dial due to recent noise dial';
const LITE_MAP_ERROR = 'control: lite map update error after ';
const CONTROL_PREFIX = 'control: ';
// The misspelling is the client's own (control/controlhttp/client.go); the corrected form is accepted too.
const TLS_WARNINGS = ['warning: TLS cert verificication for ', 'warning: TLS cert verification for '];
const IPN_STATE = /^Switching ipn state (\w+) -> (\w+)(?: |$)/;
const HEALTH = 'health(';
const PROGRAM_STARTING = /^Program starting: v?(\d+\.\d+\.\d+)/;
const DROPPED = /^ \((\d{1,15}) dropped\)\s*$/;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** Index where the message proper starts, and whether containerboot wrote it. */
function stripPrefixes(line: string): { at: number; boot: boolean } {
  let i = 0;
  // Docker's own timestamp: 2025-03-17T15:05:32.123456789Z
  if (isDigit(line.charCodeAt(0)) && line.charCodeAt(4) === 45 && line.charCodeAt(10) === 84) {
    const sp = line.indexOf(' ');
    if (sp !== -1) i = sp + 1;
  }
  let boot = false;
  if (line.startsWith('boot: ', i)) {
    boot = true;
    i += 6;
  }
  if (isDigit(line.charCodeAt(i))) {
    GO_DATE.lastIndex = i;
    if (GO_DATE.test(line)) i = GO_DATE.lastIndex;
  }
  return { at: i, boot };
}

function bootEvent(msg: string): BootFinding['event'] {
  if (msg.startsWith('Starting tailscaled')) return 'starting';
  if (msg.startsWith('Startup complete, waiting for shutdown signal')) return 'startup-complete';
  if (msg.includes('tailscaled left running state')) return 'left-running';
  if (msg.startsWith('failed to auth tailscale')) return 'auth-failed';
  if (msg.startsWith('machine authorization required') || msg.includes('NeedsLogin')) return 'needs-login';
  if (msg.startsWith('Sending SIGTERM to tailscaled')) return 'shutdown';
  return undefined;
}

type Base = { at: number; origin: string; line: string };

function controlError(error: string, via: ControlErrorFinding['via'], base: Base): ControlErrorFinding {
  const peer = controlPeer(error);
  const f: ControlErrorFinding = { kind: 'control-error', ...base, error, via, class: classifyControlError(error) };
  if (peer !== undefined) f.peer = peer;
  return f;
}

/** `control: lite map update error after 10.001s: Post "https://…/machine/map": …`. */
function liteMapError(body: string, base: Base): Finding | undefined {
  const rest = body.slice(LITE_MAP_ERROR.length);
  const sep = rest.indexOf(': ');
  if (sep <= 0) return undefined;
  return controlError(rest.slice(sep + 2), 'lite-map-update', base);
}

/** `warning: TLS cert verificication for "hs.example.com" failed: x509: …` (logged, not enforced: Noise secures the dial). */
function tlsWarning(body: string, from: number, base: Base): Finding | undefined {
  const q = readGoQuoted(body, from);
  if (q === undefined || !body.startsWith(' failed: ', q.end)) return undefined;
  return { kind: 'tls-error', ...base, side: 'client', peer: q.value, cause: body.slice(q.end + 9), fatal: false };
}

function control(body: string, base: Base): Finding | undefined {
  if (body.startsWith(LONG_POLL_TIMEOUT)) return { kind: 'map-poll-timeout', ...base };
  if (body.startsWith(FORCED_443)) return { kind: 'forced-443', ...base };
  if (body.startsWith(LITE_MAP_ERROR)) return liteMapError(body, base);
  const rest = body.startsWith(CONTROL_PREFIX) ? CONTROL_PREFIX.length : 0;
  for (const w of TLS_WARNINGS) if (body.startsWith(w, rest)) return tlsWarning(body, rest + w.length, base);
  return undefined;
}

/** `format("…")` argument: Go %q, unescaped; falls back to the raw text when the escapes are malformed. */
function ratelimit(body: string, from: number, base: { at: number; origin: string; line: string }): Finding | undefined {
  const q = readGoQuoted(body, from);
  let format: string;
  let rest: string;
  if (q !== undefined && body.charCodeAt(q.end) === 41) {
    format = q.value;
    rest = body.slice(q.end + 1);
  } else {
    const close = body.lastIndexOf('")');
    if (body.charCodeAt(from) !== 34 || close <= from) return undefined;
    format = body.slice(from + 1, close);
    rest = body.slice(close + 2);
  }
  const m = DROPPED.exec(rest);
  return { kind: 'ratelimit', ...base, format, dropped: m?.[1] !== undefined ? Number(m[1]) : 0 };
}

function health(body: string, base: { at: number; origin: string; line: string }): Finding | undefined {
  let i = HEALTH.length;
  let warnable: string;
  if (body.startsWith('warnable=', i)) {
    const close = body.indexOf('): ', i);
    if (close === -1) return undefined;
    warnable = body.slice(i + 9, close);
    i = close;
  } else {
    // pre-1.70: health("overall"): error: …
    const q = readGoQuoted(body, i);
    if (q === undefined) return undefined;
    warnable = q.value;
    i = q.end;
  }
  if (!body.startsWith('): ', i)) return undefined;
  const status = body.slice(i + 3);
  if (status === 'ok') return { kind: 'health', ...base, warnable, ok: true };
  if (status.startsWith('error: ')) return { kind: 'health', ...base, warnable, ok: false, text: status.slice(7) };
  if (status === 'error') return { kind: 'health', ...base, warnable, ok: false };
  return undefined;
}

function parse(line: string, at: number, origin: string): Finding | undefined {
  const { at: start, boot } = stripPrefixes(line);
  const body = start === 0 ? line : line.slice(start);
  const base = { at, origin, line: evidence(line) };
  if (boot) {
    const event = bootEvent(body);
    return event === undefined ? { kind: 'boot', ...base, message: body } : { kind: 'boot', ...base, message: body, event };
  }
  switch (body.charCodeAt(0)) {
    case 91: // [
      if (body.startsWith(RATELIMIT)) return ratelimit(body, RATELIMIT.length, base);
      if (body.startsWith(RATE_LIMITED_OLD)) {
        const q = readGoQuoted(body, RATE_LIMITED_OLD.length);
        return q === undefined ? undefined : { kind: 'ratelimit', ...base, format: q.value, dropped: 0 };
      }
      return undefined;
    case 82: // R
      if (body.startsWith(RECEIVED_ERROR)) {
        const error = body.slice(RECEIVED_ERROR.length);
        return error === '' ? undefined : controlError(error, 'received-error', base);
      }
      return undefined;
    case 99: // c
    case 119: // w
      return control(body, base);
    case 83: {
      // S
      const m = IPN_STATE.exec(body);
      return m?.[1] !== undefined && m[2] !== undefined ? { kind: 'ipn-state', ...base, from: m[1], to: m[2] } : undefined;
    }
    case 104: // h
      return body.startsWith(HEALTH) ? health(body, base) : undefined;
    case 80: {
      // P
      const m = PROGRAM_STARTING.exec(body);
      return m?.[1] !== undefined ? { kind: 'client-version', ...base, version: m[1] } : undefined;
    }
    default:
      return undefined;
  }
}

export const tailscaleParser: LineParser = {
  name: 'tailscale',
  parse(line: string, at: number, origin: string): Finding | undefined {
    try {
      return parse(line, at, origin);
    } catch {
      // Parsers never throw (parser.ts).
      return undefined;
    }
  },
};
