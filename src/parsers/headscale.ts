import type { Finding } from './finding.js';
import { build } from './headscale-findings.js';
import { matchKnown, type Match } from './headscale-messages.js';
import type { LineParser } from './parser.js';
import { code3, isDigit, jsonField, jsonStringAt, LEVELS, parseTextFields, textField } from './zerolog.js';

/**
 * Headscale log lines (zerolog), releases 0.22–0.30, in both `log.format` settings:
 *
 *   JSON: {"level":"info",<fields…>,"time":1795681174,"message":"node connected"}
 *   text: 2026-11-26T08:19:34Z INF [home/runner/…/poll.go:251 >] node has connected chan=0xc… node.id=7 …
 *
 * The timestamp may be missing (console writer with an empty time format, `<nil>` when the event had no time,
 * or a supervisor/proxy that strips it) and so may the level: a text line is recognised by its message. Go's
 * own `log` lines (`2026/11/26 08:19:34 http: TLS handshake error from …`) have no level either.
 *
 * Each line is first reduced to its message text with a few indexOf calls and looked up by its first word
 * (headscale-messages.ts); only lines whose message is one we know pay for reading fields (zerolog.ts).
 */

/**
 * Matches the `message` value of a zerolog JSON line (zerolog writes it last) against the known messages, in
 * place when it has no escapes so irrelevant lines cost no allocation.
 */
function jsonMessageMatch(line: string, close: number): { match: Match; message: string } | undefined {
  // Fast path for zerolog's own layout, `…,"message":"<text>"}` with no quote inside the text: two short
  // backward steps from the closing brace instead of a search through the whole line.
  if (line.charCodeAt(close - 1) === 34) {
    const open = line.lastIndexOf('"', close - 2);
    if (open > 10 && line.charCodeAt(open - 1) === 58 && line.startsWith('"message"', open - 10)) {
      const bs = line.indexOf('\\', open + 1);
      if (bs === -1 || bs > close) {
        const match = matchKnown(line, open + 1, close - 1, true);
        return match && { match, message: line.slice(open + 1, close - 1) };
      }
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
  if (bs === -1 || bs > q) {
    const match = matchKnown(line, i + 1, q, true);
    return match && { match, message: line.slice(i + 1, q) };
  }
  const decoded = jsonStringAt(line, i);
  if (decoded === undefined) return undefined;
  const match = matchKnown(decoded.value, 0, decoded.value.length, true);
  return match && { match, message: decoded.value };
}

function parseJson(line: string, from: number, at: number, origin: string): Finding | undefined {
  // A zerolog object ends with `}`; anything else was cut off (a crash mid-write, a capped line).
  let last = line.length - 1;
  while (last > from && (line.charCodeAt(last) === 32 || line.charCodeAt(last) === 9)) last--;
  if (line.charCodeAt(last) !== 125) return undefined;
  const m = jsonMessageMatch(line, last);
  if (m === undefined) return undefined;
  return build(m.match.known.rule, m.match, (key) => jsonField(line, key), m.message, line, at, origin);
}

const NIL_TIME = '<nil> ';

/** Where the message starts: past up to three leading time tokens (zerolog's, Docker's, Go log's date and time), `<nil>`, the level and the caller. */
function messageStart(line: string, from: number): number | 'json' | undefined {
  let p = from;
  for (let tokens = 0; tokens < 4; tokens++) {
    if (!isDigit(line.charCodeAt(p))) break;
    const sp = line.indexOf(' ', p);
    if (sp === -1) return undefined;
    p = sp + 1;
    if (line.charCodeAt(p) === 123) return 'json'; // Docker timestamp + JSON line
  }
  if (line.startsWith(NIL_TIME, p)) p += NIL_TIME.length;
  if (line.charCodeAt(p + 3) === 32 && LEVELS.has(code3(line, p))) p += 4;
  // Optional caller: `home/runner/…/poll.go:251 > `
  const sp = line.indexOf(' ', p);
  if (sp !== -1 && line.charCodeAt(sp + 1) === 62 && line.charCodeAt(sp + 2) === 32) {
    const go = line.indexOf('.go:', p);
    if (go !== -1 && go < sp) p = sp + 3;
  }
  return p;
}

function parseText(line: string, from: number, at: number, origin: string): Finding | undefined {
  const start = messageStart(line, from);
  if (start === undefined) return undefined;
  if (start === 'json') return parseJson(line, line.indexOf('{', from), at, origin);
  const match = matchKnown(line, start, line.length, false);
  if (match === undefined) return undefined;
  const known = match.known;
  if (known.prefix && !known.fields) return build(known.rule, match, () => undefined, line.slice(start), line, at, origin);
  // Without a quoted value every ` key=` is a real field start (bare values hold no spaces): look keys up
  // directly. A quoted value may contain ` key=`, and a printf suffix may hold bare words: tokenise then.
  if (!known.prefix && line.indexOf('"', match.end) === -1) {
    const end = match.end;
    return build(known.rule, match, (key) => textField(line, end, key), '', line, at, origin);
  }
  const fields = parseTextFields(line, match.end);
  return build(known.rule, match, (key) => fields.get(key), '', line, at, origin);
}

export const headscaleParser: LineParser = {
  name: 'headscale',
  parse(line: string, at: number, origin: string): Finding | undefined {
    try {
      let i = 0;
      while (line.charCodeAt(i) === 32 || line.charCodeAt(i) === 9) i++;
      const c = line.charCodeAt(i);
      if (c === 123) return parseJson(line, i, at, origin);
      // Digits: a timestamp; letters or `<`: a line whose timestamp was left out, recognised by its message.
      if (isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 60) return parseText(line, i, at, origin);
      return undefined;
    } catch {
      // Parsers never throw (parser.ts); a bug here must cost one line, not the log stream.
      return undefined;
    }
  },
};
