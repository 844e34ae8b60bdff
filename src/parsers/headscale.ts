import type { Finding, NodeSessionFinding, UnsupportedClientFinding } from './finding.js';
import { readGoQuoted } from './gostring.js';
import { evidence, type LineParser } from './parser.js';

/**
 * Headscale log lines (zerolog), releases 0.22–0.29, in both `log.format` settings:
 *
 *   JSON: {"level":"info",<fields…>,"time":1795681174,"message":"node connected"}
 *   text: 2026-11-26T08:19:34Z INF [home/runner/…/poll.go:251 >] node has connected chan=0xc… node.id=7 …
 *
 * Almost every line a busy server writes is irrelevant (access log, debug chatter), so each line is first
 * reduced to its message text with a few indexOf calls and looked up in a table keyed by its first word; only
 * lines whose message is one we know pay for reading fields. Fields are then read by key, not by parsing the
 * whole line (see jsonField / textField): during a flapping storm most lines are hits.
 */

type Rule =
  | 'state-conn'
  | 'state-disc'
  | 'poll-conn'
  | 'poll-disc'
  | 'legacy-conn'
  | 'legacy-disc'
  | 'unsupported'
  | 'http-500'
  | 'noise-failed'
  | 'no-upgrade-ts2021'
  | 'no-upgrade-derp'
  | 'start'
  | 'min-client'
  | 'tls';

interface Known {
  text: string;
  rule: Rule;
  /** The logged message only starts with `text` (long sentences; the rest carries no data we need). */
  prefix?: boolean;
}

const KNOWN: Known[] = [
  // 0.29 state lines; 0.27/0.28 capitalised.
  { text: 'node connected', rule: 'state-conn' },
  { text: 'node disconnected', rule: 'state-disc' },
  { text: 'Node connected', rule: 'state-conn' },
  { text: 'Node disconnected', rule: 'state-disc' },
  // 0.29 poll lines; 0.23–0.28 append `, mapSession: %p, chan: %p` (handled in matchKnown).
  { text: 'node has connected', rule: 'poll-conn' },
  { text: 'node has disconnected', rule: 'poll-disc' },
  // 0.22
  { text: 'Client is ready to access the tailnet', rule: 'legacy-conn' },
  { text: 'The client has closed the connection', rule: 'legacy-disc' },
  { text: 'unsupported client connected', rule: 'unsupported' },
  { text: 'http internal server error', rule: 'http-500' },
  { text: 'noise upgrade failed', rule: 'noise-failed' },
  { text: 'no upgrade header in TS2021 request', rule: 'no-upgrade-ts2021', prefix: true },
  { text: 'No Upgrade header in TS2021 request', rule: 'no-upgrade-ts2021', prefix: true },
  { text: 'No Upgrade header in DERP server request', rule: 'no-upgrade-derp', prefix: true },
  { text: 'starting headscale', rule: 'start' },
  { text: 'Starting Headscale', rule: 'start' },
  { text: 'Clients with a lower minimum version will be rejected', rule: 'min-client' },
  { text: 'listening without TLS but ServerURL does not start with http://', rule: 'tls' },
  { text: 'listening with TLS but ServerURL does not start with https://', rule: 'tls' },
];

/**
 * Candidates keyed by the message's first character, first-word length and the second word's first character:
 * one Map lookup on a number (no substring, no string hashing) rejects nearly every irrelevant line, including
 * the many `node …` debug messages.
 */
const BY_HEAD = new Map<number, Known[]>();
const headKey = (first: number, wordLength: number, second: number): number => (first * 64 + wordLength) * 65536 + second;
for (const k of KNOWN) {
  const sp = k.text.indexOf(' ');
  const key = headKey(k.text.charCodeAt(0), sp, k.text.charCodeAt(sp + 1));
  const list = BY_HEAD.get(key);
  if (list) list.push(k);
  else BY_HEAD.set(key, [k]);
}

const code3 = (s: string, p: number): number => (s.charCodeAt(p) << 16) | (s.charCodeAt(p + 1) << 8) | s.charCodeAt(p + 2);
const LEVELS = new Set(['TRC', 'DBG', 'INF', 'WRN', 'ERR', 'FTL', 'PNC', '???'].map((l) => code3(l, 0)));

interface Match {
  known: Known;
  /** Index in the searched string just past the message. */
  end: number;
  /** The `chan` pointer printed inside 0.23–0.28 poll messages. */
  session?: string;
}

/**
 * Matches a known message at `s[from]`, within `s[from, limit)`. With `whole`, the message must fill the region
 * (the JSON `message` value, matched in place between its quotes); otherwise it must be followed by a space or
 * the end (text format, fields follow).
 */
function matchKnown(s: string, from: number, limit: number, whole: boolean): Match | undefined {
  const sp = s.indexOf(' ', from);
  if (sp === -1 || sp >= limit || sp - from > 60) return undefined; // every known message has two words or more
  const candidates = BY_HEAD.get(headKey(s.charCodeAt(from), sp - from, s.charCodeAt(sp + 1)));
  if (candidates === undefined) return undefined;
  for (const known of candidates) {
    if (!s.startsWith(known.text, from)) continue;
    const end = from + known.text.length;
    if (end > limit) continue;
    if (known.prefix) return { known, end: limit };
    if (end === limit || (!whole && s.charCodeAt(end) === 32)) return { known, end };
    if ((known.rule === 'poll-conn' || known.rule === 'poll-disc') && s.charCodeAt(end) === 44) {
      const ptrs = readPointers(s, end, limit);
      if (ptrs !== undefined && (ptrs.end === limit || (!whole && s.charCodeAt(ptrs.end) === 32))) {
        return { known, end: ptrs.end, session: ptrs.chan };
      }
    }
  }
  return undefined;
}

/** `, mapSession: 0xc…, chan: 0xc…` (0.23–0.28 poll messages). */
function readPointers(s: string, from: number, limit: number): { chan: string; end: number } | undefined {
  const A = ', mapSession: ';
  const B = ', chan: ';
  if (!s.startsWith(A, from)) return undefined;
  const comma = s.indexOf(',', from + A.length);
  if (comma === -1 || comma >= limit || !s.startsWith(B, comma)) return undefined;
  const chanStart = comma + B.length;
  let end = s.indexOf(' ', chanStart);
  if (end === -1 || end > limit) end = limit;
  if (end <= chanStart) return undefined;
  return { chan: s.slice(chanStart, end), end };
}

/**
 * `key` → `key":` / `key=`, built once per key. The needle leaves out the leading quote / space and the caller
 * checks that character: V8's indexOf scans for the needle's first character, and `"` or ` ` occur every few
 * characters in these lines, which made the search several times slower.
 */
const JSON_NEEDLES = new Map<string, string>();
const TEXT_NEEDLES = new Map<string, string>();
function needle(cache: Map<string, string>, key: string, make: (k: string) => string): string {
  let n = cache.get(key);
  if (n === undefined) {
    n = make(key);
    cache.set(key, n);
  }
  return n;
}

type Get = (key: string) => string | undefined;

/** zerolog console fields: `k=v` sorted by key, values with spaces or quotes Go-quoted. */
function parseTextFields(s: string, from: number): Map<string, string> {
  const out = new Map<string, string>();
  const len = s.length;
  let i = from;
  while (i < len) {
    while (s.charCodeAt(i) === 32) i++;
    if (i >= len) break;
    const eq = s.indexOf('=', i);
    if (eq === -1) break;
    let sp = s.indexOf(' ', i);
    if (sp !== -1 && sp < eq) {
      i = sp + 1; // a bare word, not a field
      continue;
    }
    const key = s.slice(i, eq);
    if (s.charCodeAt(eq + 1) === 34) {
      const q = readGoQuoted(s, eq + 1);
      if (q !== undefined) {
        out.set(key, q.value);
        i = q.end;
        continue;
      }
      sp = s.indexOf(' ', eq + 1);
    }
    if (sp === -1) sp = len;
    out.set(key, s.slice(eq + 1, sp));
    i = sp + 1;
  }
  return out;
}

function textField(line: string, from: number, key: string): string | undefined {
  const n = needle(TEXT_NEEDLES, key, (k) => `${k}=`);
  let k = line.indexOf(n, from);
  while (k !== -1 && line.charCodeAt(k - 1) !== 32) k = line.indexOf(n, k + 1);
  if (k === -1) return undefined;
  const start = k + n.length;
  const sp = line.indexOf(' ', start);
  return line.slice(start, sp === -1 ? line.length : sp);
}

/** `v1.74` → `1.74`; empty → undefined. Versions are compared without the `v`. */
function version(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === '') return undefined;
  return t.charCodeAt(0) === 118 && /^v\d/.test(t) ? t.slice(1) : t;
}

const INTEGER = /^\d{1,9}$/;

function int(v: string | undefined): number | undefined {
  return v !== undefined && INTEGER.test(v) ? Number(v) : undefined;
}

const UNSUPPORTED_IN_ERROR = /unsupported client version:?\s*(v?\d[\w.+-]*)?\s*(?:\((\d{1,9})\))?/;

/** Versions from `unsupported client version: v1.74 (106)` / `v1.74.0` / `106` (0.25 logs only the capver). */
function unsupportedFromError(err: string, base: { at: number; origin: string; line: string }): UnsupportedClientFinding {
  const f: UnsupportedClientFinding = { kind: 'unsupported-client', ...base };
  const m = UNSUPPORTED_IN_ERROR.exec(err);
  if (m !== null) {
    const token = m[1];
    if (token !== undefined) {
      if (INTEGER.test(token)) f.clientCapVer = Number(token);
      else {
        const v = version(token);
        if (v !== undefined) f.clientVersion = v;
      }
    }
    if (m[2] !== undefined) f.clientCapVer = Number(m[2]);
  }
  return f;
}

const NOISE_CAUSE_PREFIXES = ['upgrading noise connection: ', 'noise upgrade failed: '];

function build(rule: Rule, match: Match, get: Get, line: string, at: number, origin: string): Finding | undefined {
  switch (rule) {
    case 'state-conn':
    case 'state-disc':
    case 'poll-conn':
    case 'poll-disc': {
      // The hot path when a tailnet flaps: plain literal, no spreads.
      const nodeId = get('node.id');
      if (nodeId === undefined || nodeId === '') return undefined;
      const poll = rule === 'poll-conn' || rule === 'poll-disc';
      const f: NodeSessionFinding = {
        kind: rule === 'state-conn' || rule === 'poll-conn' ? 'node-connected' : 'node-disconnected',
        at,
        origin,
        line: evidence(line),
        nodeId,
        via: poll ? 'poll' : 'state',
      };
      // 0.23–0.26 name the hostname field `node`; 0.27+ `node.name`.
      const nodeName = get('node.name') ?? get('node');
      if (nodeName !== undefined && nodeName !== '') f.nodeName = nodeName;
      if (poll) {
        const session = match.session ?? get('chan');
        if (session !== undefined && session !== '') f.session = session;
      }
      return f;
    }
  }
  const base = { at, origin, line: evidence(line) };
  switch (rule) {
    case 'legacy-conn':
    case 'legacy-disc': {
      // 0.22 logs no node id: the machine's hostname stands in for both.
      const machine = get('machine');
      if (machine === undefined || machine === '') return undefined;
      return {
        kind: rule === 'legacy-conn' ? 'node-connected' : 'node-disconnected',
        ...base,
        nodeId: machine,
        nodeName: machine,
        via: 'legacy',
      };
    }
    case 'unsupported': {
      const f: UnsupportedClientFinding = { kind: 'unsupported-client', ...base };
      // 0.27+: minimum_cap_ver/client_cap_ver + minimum_version/client_version strings.
      // 0.23–0.24: min_version/client_version are capability-version integers.
      const minCap = int(get('minimum_cap_ver'));
      const clientCap = int(get('client_cap_ver'));
      const minV = get('minimum_version') ?? get('min_version');
      const clientV = get('client_version');
      if (minCap !== undefined) f.minimumCapVer = minCap;
      else if (int(minV) !== undefined) f.minimumCapVer = int(minV);
      if (clientCap !== undefined) f.clientCapVer = clientCap;
      else if (int(clientV) !== undefined) f.clientCapVer = int(clientV);
      if (minV !== undefined && int(minV) === undefined) {
        const v = version(minV);
        if (v !== undefined) f.minimumVersion = v;
      }
      if (clientV !== undefined && int(clientV) === undefined) {
        const v = version(clientV);
        if (v !== undefined) f.clientVersion = v;
      }
      return f;
    }
    case 'http-500':
    case 'noise-failed': {
      const err = get('error');
      if (err !== undefined && err.includes('unsupported client version')) return unsupportedFromError(err, base);
      if (rule === 'noise-failed') {
        // ≤ 0.24: the message says what failed and `error` is the bare cause.
        return { kind: 'noise-upgrade-failed', ...base, cause: err !== undefined && err !== '' ? err : 'unknown' };
      }
      if (err === undefined) return undefined;
      for (const p of NOISE_CAUSE_PREFIXES) {
        if (err.startsWith(p)) return { kind: 'noise-upgrade-failed', ...base, cause: err.slice(p.length) };
      }
      return undefined; // some other internal error
    }
    case 'no-upgrade-ts2021':
      return { kind: 'proxy-no-upgrade', ...base, endpoint: 'ts2021' };
    case 'no-upgrade-derp':
      return { kind: 'proxy-no-upgrade', ...base, endpoint: 'derp' };
    case 'start': {
      const v = version(get('version'));
      if (v === undefined) return undefined;
      const commit = get('commit');
      return commit !== undefined && commit !== ''
        ? { kind: 'server-version', ...base, version: v, commit }
        : { kind: 'server-version', ...base, version: v };
    }
    case 'min-client': {
      const v = version(get('minimum_version'));
      return v === undefined ? undefined : { kind: 'server-minimum-client', ...base, minimumVersion: v };
    }
    case 'tls':
      return { kind: 'tls-url-mismatch', ...base, message: match.known.text };
  }
}

/** Reads a JSON string literal starting at `line[i] === '"'`; undefined when unterminated or badly escaped. */
function jsonStringAt(line: string, i: number): { value: string; end: number } | undefined {
  let j = i + 1;
  for (;;) {
    const q = line.indexOf('"', j);
    if (q === -1) return undefined;
    let slashes = 0;
    while (line.charCodeAt(q - 1 - slashes) === 92) slashes++;
    if (slashes % 2 === 0) {
      const bs = line.indexOf('\\', i + 1);
      if (bs === -1 || bs > q) return { value: line.slice(i + 1, q), end: q + 1 };
      try {
        const v: unknown = JSON.parse(line.slice(i, q + 1));
        return typeof v === 'string' ? { value: v, end: q + 1 } : undefined;
      } catch {
        return undefined;
      }
    }
    j = q + 1;
  }
}

/**
 * Matches the `message` value of a zerolog JSON line (zerolog writes it last) against the known messages, in
 * place when it has no escapes so irrelevant lines cost no allocation.
 */
function jsonMessageMatch(line: string, close: number): Match | undefined {
  // Fast path for zerolog's own layout, `…,"message":"<text>"}` with no quote inside the text: two short
  // backward steps from the closing brace instead of a search through the whole line.
  if (line.charCodeAt(close - 1) === 34) {
    const open = line.lastIndexOf('"', close - 2);
    if (open > 10 && line.charCodeAt(open - 1) === 58 && line.startsWith('"message"', open - 10)) {
      const bs = line.indexOf('\\', open + 1);
      if (bs === -1 || bs > close) return matchKnown(line, open + 1, close - 1, true);
    }
  }
  const k = line.lastIndexOf('"message":');
  if (k === -1) return undefined;
  let i = k + 10;
  while (line.charCodeAt(i) === 32) i++;
  if (line.charCodeAt(i) !== 34) return undefined;
  const q = line.indexOf('"', i + 1);
  if (q === -1) return undefined;
  const bs = line.indexOf('\\', i + 1);
  if (bs === -1 || bs > q) return matchKnown(line, i + 1, q, true);
  const decoded = jsonStringAt(line, i);
  if (decoded === undefined) return undefined;
  return matchKnown(decoded.value, 0, decoded.value.length, true);
}

/** Keys zerolog writes just before `time` and `message` (poll.go adds `chan` last): cheaper to find from the end. */
const LATE_KEYS = new Set(['chan']);

const SCALAR_TOKEN = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)$/;

/**
 * One top-level scalar field of a flat zerolog object, found by its `"key":` text. A key inside a string value
 * would read `\"key\":`, so a hit not preceded by a backslash is a real key. Replaces JSON.parse on the lines we
 * keep: JSON.parse alone measured ~2 µs per connect line, this whole parse ~0.6 µs. Objects and arrays read as
 * absent; the line must end in `}` (checked by the caller), so truncated lines are dropped as before.
 */
function jsonField(line: string, key: string): string | undefined {
  const n = needle(JSON_NEEDLES, key, (k) => `${k}":`);
  let k: number;
  if (LATE_KEYS.has(key)) {
    k = line.lastIndexOf(n);
    while (k !== -1 && (line.charCodeAt(k - 1) !== 34 || line.charCodeAt(k - 2) === 92)) k = k === 0 ? -1 : line.lastIndexOf(n, k - 1);
  } else {
    k = line.indexOf(n);
    while (k !== -1 && (line.charCodeAt(k - 1) !== 34 || line.charCodeAt(k - 2) === 92)) k = line.indexOf(n, k + 1);
  }
  if (k === -1) return undefined;
  let i = k + n.length;
  while (line.charCodeAt(i) === 32) i++;
  if (line.charCodeAt(i) === 34) return jsonStringAt(line, i)?.value;
  let end = i;
  const len = line.length;
  while (end < len) {
    const c = line.charCodeAt(end);
    if (c === 44 || c === 125 || c === 32) break; // , } space
    end++;
  }
  const token = line.slice(i, end);
  return SCALAR_TOKEN.test(token) ? token : undefined;
}

function parseJson(line: string, from: number, at: number, origin: string): Finding | undefined {
  // A zerolog object ends with `}`; anything else was cut off (a crash mid-write, a capped line).
  let last = line.length - 1;
  while (last > from && (line.charCodeAt(last) === 32 || line.charCodeAt(last) === 9)) last--;
  if (line.charCodeAt(last) !== 125) return undefined;
  const match = jsonMessageMatch(line, last);
  if (match === undefined) return undefined;
  return build(match.known.rule, match, (key) => jsonField(line, key), line, at, origin);
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function parseText(line: string, from: number, at: number, origin: string): Finding | undefined {
  // Up to two leading timestamps (zerolog's own, plus Docker's when logs are fetched with timestamps), then
  // the three-letter level.
  let p = from;
  let msgStart = -1;
  for (let tokens = 0; tokens < 3; tokens++) {
    const sp = line.indexOf(' ', p);
    if (sp === -1) return undefined;
    if (sp - p === 3 && LEVELS.has(code3(line, p))) {
      msgStart = sp + 1;
      break;
    }
    if (!isDigit(line.charCodeAt(p))) return undefined;
    p = sp + 1;
    if (line.charCodeAt(p) === 123) return parseJson(line, p, at, origin); // Docker timestamp + JSON line
  }
  if (msgStart === -1) return undefined;
  // Optional caller: `home/runner/…/poll.go:251 > `
  const sp = line.indexOf(' ', msgStart);
  if (sp !== -1 && line.charCodeAt(sp + 1) === 62 && line.charCodeAt(sp + 2) === 32) {
    const go = line.indexOf('.go:', msgStart);
    if (go !== -1 && go < sp) msgStart = sp + 3;
  }
  const match = matchKnown(line, msgStart, line.length, false);
  if (match === undefined) return undefined;
  if (match.known.prefix) return build(match.known.rule, match, () => undefined, line, at, origin);
  // Without a quoted value every ` key=` is a real field start (bare values hold no spaces): look keys up
  // directly. A quoted value may contain ` key=`, so then tokenise properly.
  if (line.indexOf('"', match.end) === -1) {
    const end = match.end;
    return build(match.known.rule, match, (key) => textField(line, end, key), line, at, origin);
  }
  const fields = parseTextFields(line, match.end);
  return build(match.known.rule, match, (key) => fields.get(key), line, at, origin);
}

export const headscaleParser: LineParser = {
  name: 'headscale',
  parse(line: string, at: number, origin: string): Finding | undefined {
    try {
      let i = 0;
      while (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9) i++;
      const c = line.charCodeAt(i);
      if (c === 123) return parseJson(line, i, at, origin);
      if (isDigit(c)) return parseText(line, i, at, origin);
      return undefined;
    } catch {
      // Parsers never throw (parser.ts); a bug here must cost one line, not the log stream.
      return undefined;
    }
  },
};
