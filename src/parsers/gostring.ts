/**
 * Go double-quoted string literals as printed by `%q` / `strconv.Quote` (tailscaled's `[RATELIMIT] format(%q)`,
 * zerolog's console writer for values with spaces or quotes). Hand-rolled because JSON.parse rejects Go-only
 * escapes (`\x00`, `\a`, `\v`, octal `\000`, `\U0001F600`), which is exactly what these lines carry.
 */

export interface GoQuoted {
  value: string;
  /** Index just past the closing quote. */
  end: number;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

function isHex(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 70) || (code >= 97 && code <= 102);
}

function hexRun(s: string, from: number, count: number): number | undefined {
  if (from + count > s.length) return undefined;
  for (let i = from; i < from + count; i++) if (!isHex(s.charCodeAt(i))) return undefined;
  return Number.parseInt(s.slice(from, from + count), 16);
}

/**
 * Reads the Go-quoted literal that starts at `s[start] === '"'`. Returns undefined when there is no closing quote
 * or an escape is malformed. Byte escapes (`\xNN`, `\NNN`) are collected and decoded together as UTF-8, so a
 * multi-byte character written byte by byte comes back whole; invalid bytes become U+FFFD.
 */
export function readGoQuoted(s: string, start: number): GoQuoted | undefined {
  if (s.charCodeAt(start) !== 34) return undefined;
  let i = start + 1;
  // Fast path: no escapes before the closing quote.
  const close = s.indexOf('"', i);
  if (close === -1) return undefined;
  const slash = s.indexOf('\\', i);
  if (slash === -1 || slash > close) return { value: s.slice(i, close), end: close + 1 };

  let out = '';
  let bytes: number[] | undefined;
  const flushBytes = (): void => {
    if (bytes !== undefined) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = undefined;
    }
  };
  let runStart = i;
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c === 34) {
      if (i > runStart) {
        flushBytes();
        out += s.slice(runStart, i);
      }
      flushBytes();
      return { value: out, end: i + 1 };
    }
    if (c !== 92) {
      i++;
      continue;
    }
    if (i > runStart) {
      flushBytes();
      out += s.slice(runStart, i);
    }
    const e = s[i + 1];
    if (e === undefined) return undefined;
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      flushBytes();
      out += simple;
      i += 2;
    } else if (e === 'x') {
      const b = hexRun(s, i + 2, 2);
      if (b === undefined) return undefined;
      (bytes ??= []).push(b);
      i += 4;
    } else if (e === 'u' || e === 'U') {
      const cp = hexRun(s, i + 2, e === 'u' ? 4 : 8);
      if (cp === undefined || cp > 0x10ffff) return undefined;
      flushBytes();
      out += String.fromCodePoint(cp);
      i += e === 'u' ? 6 : 10;
    } else if (e >= '0' && e <= '7') {
      const oct = s.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(oct)) return undefined;
      const b = Number.parseInt(oct, 8);
      if (b > 255) return undefined;
      (bytes ??= []).push(b);
      i += 4;
    } else {
      return undefined;
    }
    runStart = i;
  }
  return undefined;
}

/** Unquotes a whole Go literal (`"a\x00b"`); undefined when `s` is not exactly one literal. */
export function unquoteGo(s: string): string | undefined {
  const r = readGoQuoted(s, 0);
  return r !== undefined && r.end === s.length ? r.value : undefined;
}
