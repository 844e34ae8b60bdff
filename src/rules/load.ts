import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { RE2JS } from 're2js';
import type * as Yaml from 'yaml';
import type { Severity } from '../alerts/model.js';
import { parseDuration } from '../config/schema.js';

/**
 * User-defined log rules (HEADWATCH_RULES_FILE, YAML): each names the containers it watches, what a line must
 * contain (a substring, or a regular expression run by re2js — RE2 semantics, linear time in the line's
 * length whatever the pattern, so no pattern can stall the ingest path), how many matches within a window
 * fire, the severity, and a summary that may use the match's groups. A bad file stops the start with the
 * file, the rule's name and what is wrong.
 *
 *   rules:
 *     - name: db-locked
 *       containers: [headscale]            # names, globs (ts-*), or image:<substring>
 *       regex: 'database is locked \((\w+)\)'   # or  match: "database is locked"
 *       count: 3                           # default 1
 *       window: 5m                         # default 5m
 *       clear_after: 10m                   # default: the window
 *       severity: warning                  # info | warning | critical (default warning)
 *       summary: 'SQLite locked in $container ($1)'
 */

export interface LogRule {
  name: string;
  /** Container selectors as written. */
  containers: string[];
  /** Substring to find (exact case unless ignoreCase). */
  match?: string;
  /** Compiled RE2 pattern. */
  regex?: RE2JS;
  regexSource?: string;
  ignoreCase: boolean;
  /** A literal every matching line contains (the match itself, or one read from the pattern): the cheap screen. */
  literal?: string;
  count: number;
  windowMs: number;
  clearAfterMs: number;
  severity: Severity;
  summary: string;
}

/** Every problem of the file, each naming the rule; thrown by loadRules. */
export class RulesError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(`HEADWATCH_RULES_FILE ${file}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'RulesError';
  }
}

/**
 * yaml and re2js load on the first rules file: most installations have none, and together they are several MB
 * of an idle process (loadRules is synchronous, hence require rather than a dynamic import).
 */
const require = createRequire(import.meta.url);
let libs: { yaml: typeof Yaml; re2: typeof RE2JS } | undefined;
function ruleLibs(): { yaml: typeof Yaml; re2: typeof RE2JS } {
  return (libs ??= { yaml: require('yaml') as typeof Yaml, re2: (require('re2js') as { RE2JS: typeof RE2JS }).RE2JS });
}

const KEYS = new Set(['name', 'containers', 'match', 'regex', 'ignore_case', 'count', 'window', 'clear_after', 'severity', 'summary']);
const SEVERITIES = new Set<Severity>(['info', 'warning', 'critical']);
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function loadRules(file: string): LogRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RulesError(file, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`]);
  }
  return parseRules(text, file);
}

export function parseRules(text: string, file: string): LogRule[] {
  const { isMap, isSeq, parseDocument } = ruleLibs().yaml;
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) throw new RulesError(file, doc.errors.map((e) => `not valid YAML: ${e.message.split('\n')[0]}`));
  const root = doc.contents;
  const list = isMap(root) ? root.get('rules', true) : undefined;
  if (!isMap(root) || !isSeq(list)) throw new RulesError(file, ['expected a top-level `rules:` list']);
  const problems: string[] = [];
  const rules: LogRule[] = [];
  const seen = new Set<string>();
  list.items.forEach((item, i) => {
    const raw = (item as { toJSON?: () => unknown })?.toJSON?.() ?? item;
    const label = typeof (raw as { name?: unknown })?.name === 'string' ? `rule "${(raw as { name: string }).name}"` : `rule #${i + 1}`;
    const r = compileRule(raw, label, problems);
    if (!r) return;
    if (seen.has(r.name)) problems.push(`${label}: the name is used by another rule; names must be unique`);
    seen.add(r.name);
    rules.push(r);
  });
  if (problems.length > 0) throw new RulesError(file, problems);
  return rules;
}

function compileRule(raw: unknown, label: string, problems: string[]): LogRule | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${label}: expected a mapping with name, containers, match or regex, …`);
    return undefined;
  }
  const o = raw as Record<string, unknown>;
  const before = problems.length;
  const bad = (what: string) => problems.push(`${label}: ${what}`);
  for (const k of Object.keys(o)) if (!KEYS.has(k)) bad(`unknown key "${k}" (allowed: ${[...KEYS].join(', ')})`);
  const name = o.name;
  if (typeof name !== 'string' || !NAME.test(name)) bad('name: required, 1–64 letters, digits, . _ or -');
  const containers = o.containers === undefined ? ['*'] : Array.isArray(o.containers) ? o.containers : [o.containers];
  if (containers.length === 0 || !containers.every((c) => typeof c === 'string' && c.trim() !== '')) bad('containers: a list of container names, globs (ts-*) or image:<substring>');
  const ignoreCase = o.ignore_case === true;
  if (o.ignore_case !== undefined && typeof o.ignore_case !== 'boolean') bad('ignore_case: true or false');
  let regex: RE2JS | undefined;
  let literal: string | undefined;
  if ((o.match === undefined) === (o.regex === undefined)) bad('give exactly one of match (a substring) or regex');
  if (o.match !== undefined && (typeof o.match !== 'string' || o.match === '')) bad('match: a non-empty string');
  if (typeof o.match === 'string' && o.match !== '') literal = o.match;
  if (o.regex !== undefined) {
    if (typeof o.regex !== 'string' || o.regex === '') bad('regex: a non-empty string');
    else {
      try {
        const { re2 } = ruleLibs();
        regex = re2.compile(o.regex, ignoreCase ? re2.CASE_INSENSITIVE : 0);
        literal = requiredLiteral(o.regex);
      } catch (err) {
        const why = (err as Error).message;
        bad(
          /lookahead|lookbehind|backreference|\\[1-9]|\(\?[=!<]/i.test(why + o.regex)
            ? `regex: ${why} — lookaround and backreferences are refused: they cannot run in linear time (rules run with RE2 semantics)`
            : `regex: ${why}`,
        );
      }
    }
  }
  const count = o.count === undefined ? 1 : o.count;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > 100_000) bad('count: a whole number from 1 to 100000');
  const windowMs = duration(o.window, 300_000, 'window', bad);
  const clearAfterMs = duration(o.clear_after, windowMs ?? 300_000, 'clear_after', bad);
  const severity = o.severity === undefined ? 'warning' : o.severity;
  if (typeof severity !== 'string' || !SEVERITIES.has(severity as Severity)) bad('severity: info, warning or critical');
  const summary = o.summary === undefined ? `Rule ${String(name)} matched in $container` : o.summary;
  if (typeof summary !== 'string' || summary.trim() === '') bad('summary: a non-empty string');
  if (problems.length > before) return undefined;
  const rule: LogRule = {
    name: name as string,
    containers: (containers as string[]).map((c) => c.trim()),
    ignoreCase,
    count: count as number,
    windowMs: windowMs!,
    clearAfterMs: clearAfterMs!,
    severity: severity as Severity,
    summary: summary as string,
  };
  if (typeof o.match === 'string') rule.match = ignoreCase ? o.match.toLowerCase() : o.match;
  if (regex) {
    rule.regex = regex;
    rule.regexSource = o.regex as string;
  }
  if (literal !== undefined && literal.length >= 3) rule.literal = ignoreCase ? literal.toLowerCase() : literal;
  return rule;
}

function duration(v: unknown, fallback: number, key: string, bad: (w: string) => void): number | undefined {
  if (v === undefined) return fallback;
  const ms = typeof v === 'string' ? parseDuration(v) : typeof v === 'number' ? v * 1000 : undefined;
  if (ms === undefined || ms < 1000 || ms > 30 * 86_400_000) {
    bad(`${key}: a duration such as 90s, 5m or 1h (got ${JSON.stringify(v)})`);
    return undefined;
  }
  return ms;
}

/**
 * The longest run of plain characters that every match must contain, read from a pattern without top-level
 * alternation: characters outside groups, classes and escapes-with-meaning, not made optional by a following
 * quantifier. Undefined when there is none (the rule then checks every line with the full pattern). The screen
 * skips every line without this literal, so it must never name one a match can lack: escapes that stand for
 * other characters (`\x41`, `\101`, `\pL`, `\Q…\E`), classes (`[]a]`, `[[:alpha:]]`, `[\]]`), repetition
 * counts (`a{100}`) and a case-insensitive flag (`(?i)`, which folds everything after it) end or bound the run.
 */
export function requiredLiteral(pattern: string): string | undefined {
  let depth = 0;
  let best = '';
  let run = '';
  const flush = () => {
    if (run.length > best.length) best = run;
    run = '';
  };
  const quantified = (at: number) => pattern[at] === '?' || pattern[at] === '*' || pattern[at] === '{';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const e = pattern[i + 1];
      i++;
      if (e !== undefined && depth === 0 && /[.*+?()[\]{}|^$\\/\-]/.test(e) && !quantified(i + 1)) {
        run += e;
        if (pattern[i + 1] === '+') flush();
        continue;
      }
      flush();
      // Skip the rest of an escape longer than one character, so none of it is read as plain text.
      if (e === 'x') i = pattern[i + 1] === '{' ? closing(pattern, i + 1, '}') : i + 2;
      else if (e === 'p' || e === 'P') i = pattern[i + 1] === '{' ? closing(pattern, i + 1, '}') : i + 1;
      else if (e !== undefined && e >= '0' && e <= '7') for (let k = 0; k < 2 && /[0-7]/.test(pattern[i + 1] ?? ''); k++) i++;
      else if (e === 'Q') {
        const q = pattern.indexOf('\\E', i + 1);
        i = q === -1 ? pattern.length : q + 1;
      }
      continue;
    }
    if (c === '[') {
      flush();
      i = classEnd(pattern, i);
      continue;
    }
    if (c === '{') {
      flush();
      i = closing(pattern, i, '}');
      continue;
    }
    if (c === '(') {
      // `(?i)` makes the rest of its group (or of the pattern) case-insensitive: nothing after it is exact.
      const flags = /^\(\?([A-Za-z]*)(?:-[A-Za-z]*)?\)/.exec(pattern.slice(i));
      if (flags?.[1]?.includes('i')) {
        flush();
        if (depth === 0) break;
      }
      depth++;
      flush();
      continue;
    }
    if (c === ')') {
      depth--;
      flush();
      continue;
    }
    if (c === '|' && depth === 0) return undefined; // either side may match
    if (depth > 0 || '.^$*+?}'.includes(c) || quantified(i + 1)) {
      flush();
      continue;
    }
    run += c;
    if (pattern[i + 1] === '+') flush(); // `a+` requires one `a`, but the run after it is not contiguous with it
  }
  flush();
  return best.length > 0 ? best : undefined;
}

/** Index of the first `close` at or after `from` (the end of the pattern when there is none). */
function closing(pattern: string, from: number, close: string): number {
  const at = pattern.indexOf(close, from);
  return at === -1 ? pattern.length : at;
}

/** Index of the `]` that ends the class opened at `open`: a leading `]` or `^]` is a member, `\]` is escaped, `[:…:]` is nested. */
function classEnd(pattern: string, open: number): number {
  let i = open + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') i++;
    else if (c === '[' && pattern[i + 1] === ':') {
      const end = pattern.indexOf(':]', i + 2);
      if (end !== -1) i = end + 1;
    } else if (c === ']') return i;
  }
  return pattern.length;
}
