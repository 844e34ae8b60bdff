import { readGoQuoted } from './gostring.js';

/**
 * Field readers for zerolog lines (Headscale's logger), shared by the Headscale parser's JSON and text paths.
 * Fields are read by key rather than by parsing the whole line: during a flapping storm most lines are hits,
 * and JSON.parse alone measured ~2 µs per connect line where these readers take ~0.6 µs for the whole parse.
 */

/** Reads one field of the line being parsed; undefined when absent. */
export type Get = (key: string) => string | undefined;

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export const code3 = (s: string, p: number): number => (s.charCodeAt(p) << 16) | (s.charCodeAt(p + 1) << 8) | s.charCodeAt(p + 2);

/** zerolog console level abbreviations (`???` for an unknown level). */
export const LEVELS = new Set(['TRC', 'DBG', 'INF', 'WRN', 'ERR', 'FTL', 'PNC', '???'].map((l) => code3(l, 0)));

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

/** zerolog console fields: `k=v` sorted by key, values with spaces or quotes Go-quoted. Bare words are skipped. */
export function parseTextFields(s: string, from: number): Map<string, string> {
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

/** A bare (unquoted) text field after `from`; only valid when the line has no quoted value (see parseText). */
export function textField(line: string, from: number, key: string): string | undefined {
  const n = needle(TEXT_NEEDLES, key, (k) => `${k}=`);
  let k = line.indexOf(n, from);
  while (k !== -1 && line.charCodeAt(k - 1) !== 32) k = line.indexOf(n, k + 1);
  if (k === -1) return undefined;
  const start = k + n.length;
  const sp = line.indexOf(' ', start);
  return line.slice(start, sp === -1 ? line.length : sp);
}

/** Reads a JSON string literal starting at `line[i] === '"'`; undefined when unterminated or badly escaped. */
export function jsonStringAt(line: string, i: number): { value: string; end: number } | undefined {
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

/** Keys zerolog writes just before `time` and `message` (poll.go adds `chan` last): cheaper to find from the end. */
const LATE_KEYS = new Set(['chan']);

const SCALAR_TOKEN = /^(?:-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false)$/;

/**
 * One top-level scalar field of a flat zerolog object, found by its `"key":` text. A key inside a string value
 * would read `\"key\":`, so a hit not preceded by a backslash is a real key. Objects and arrays read as absent;
 * the line must end in `}` (checked by the caller), so truncated lines are dropped.
 */
export function jsonField(line: string, key: string): string | undefined {
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
