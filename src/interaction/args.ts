import type { OptionDef, RawValues } from './types.js';

/**
 * Turns what the user typed into option values by name, the same shape for both platforms:
 * Slack gives `rawText` (`create-key alice --reusable --expiration 2h`), Discord gives typed options.
 * Every failure is a sentence saying what was wrong, for the help reply.
 */
export type Bound = { ok: true; values: RawValues } | { ok: false; error: string };

export const MAX_INPUT_CHARS = 1000;

/** Safe to echo back: short, one line, no markdown that could break out of inline code. */
export function shown(text: string, max = 40): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f`\u2028\u2029\u200b-\u200f\u202a-\u202e]/g, '?');
  const chars = Array.from(flat);
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : flat;
}

/** Splits on whitespace with "double", 'single' and “smart” quotes; Slack clients often turn -- into — . */
export function tokenize(text: string): { ok: true; tokens: string[] } | { ok: false; error: string } {
  const tokens: string[] = [];
  let cur = '';
  let inToken = false;
  let quote: string | null = null;
  const closing: Record<string, string> = { '"': '"', "'": "'", '“': '”', '‘': '’', '„': '“' };
  for (const ch of text) {
    if (quote !== null) {
      if (ch === closing[quote] || (quote === '“' && ch === '"')) quote = null;
      else cur += ch;
      continue;
    }
    if (ch in closing) {
      quote = ch;
      inToken = true;
      continue;
    }
    if (/\s/u.test(ch)) {
      if (inToken) tokens.push(cur);
      cur = '';
      inToken = false;
      continue;
    }
    cur += ch;
    inToken = true;
  }
  if (quote !== null) return { ok: false, error: `a quote (${quote}) is not closed` };
  if (inToken) tokens.push(cur);
  return { ok: true, tokens: tokens.map((t) => t.replace(/^[\u2013\u2014](?=[a-z])/u, '--')) };
}

function convert(def: OptionDef, raw: string): { ok: true; value: string | number | boolean } | { ok: false; error: string } {
  switch (def.type) {
    case 'integer': {
      if (!/^-?\d{1,9}$/.test(raw)) return { ok: false, error: `${def.name} must be a whole number (got "${shown(raw)}")` };
      return { ok: true, value: Number(raw) };
    }
    case 'boolean': {
      const v = raw.toLowerCase();
      if (['true', 'yes', '1', 'on'].includes(v)) return { ok: true, value: true };
      if (['false', 'no', '0', 'off'].includes(v)) return { ok: true, value: false };
      return { ok: false, error: `--${def.name} takes no value or true/false (got "${shown(raw)}")` };
    }
    case 'string': {
      if (def.choices && !def.choices.includes(raw.toLowerCase())) {
        return { ok: false, error: `${def.name} must be one of ${def.choices.join(', ')} (got "${shown(raw)}")` };
      }
      return { ok: true, value: def.choices ? raw.toLowerCase() : raw };
    }
  }
}

function requireAll(defs: OptionDef[], values: RawValues): Bound {
  const missing = defs.filter((d) => d.required && values[d.name] === undefined);
  if (missing.length > 0) {
    return { ok: false, error: `missing ${missing.map((d) => (d.positional ? `<${d.name}>` : `--${d.name}`)).join(', ')}` };
  }
  return { ok: true, values };
}

/** Slack: positional arguments in declared order, `--flag`, `--flag value`, `--flag=value`. */
export function bindTokens(tokens: string[], defs: OptionDef[]): Bound {
  const values: RawValues = {};
  const positionals = defs.filter((d) => d.positional);
  let nextPositional = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.startsWith('--') && token.length > 2) {
      const eq = token.indexOf('=');
      const name = (eq === -1 ? token.slice(2) : token.slice(2, eq)).toLowerCase();
      const def = defs.find((d) => d.name === name);
      if (!def) {
        const flags = defs.filter((d) => !d.positional).map((d) => `--${d.name}`);
        return {
          ok: false,
          error: `unknown option --${shown(name)}${flags.length > 0 ? `; this command takes ${flags.join(', ')}` : '; this command takes no options'}`,
        };
      }
      if (values[def.name] !== undefined) return { ok: false, error: `--${def.name} is given twice` };
      let raw: string;
      if (eq !== -1) raw = token.slice(eq + 1);
      else if (def.type === 'boolean') raw = 'true';
      else {
        const next = tokens[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) return { ok: false, error: `--${def.name} needs a value` };
        raw = next;
        i++;
      }
      const c = convert(def, raw);
      if (!c.ok) return c;
      values[def.name] = c.value;
      continue;
    }
    // Skip positionals already given as --name.
    while (nextPositional < positionals.length && values[positionals[nextPositional]!.name] !== undefined) nextPositional++;
    const def = positionals[nextPositional];
    if (!def) return { ok: false, error: `unexpected argument "${shown(token)}"` };
    const c = convert(def, token);
    if (!c.ok) return c;
    values[def.name] = c.value;
    nextPositional++;
  }
  return requireAll(defs, values);
}

/** Discord: typed options by name (Discord already enforces types; still checked, the payload is input). */
export function bindOptions(options: Record<string, string | number | boolean>, defs: OptionDef[]): Bound {
  const values: RawValues = {};
  for (const [name, value] of Object.entries(options)) {
    const def = defs.find((d) => d.name === name);
    if (!def) return { ok: false, error: `unknown option ${shown(name)}` };
    const c = convert(def, String(value));
    if (!c.ok) return c;
    values[def.name] = c.value;
  }
  return requireAll(defs, values);
}

/** Levenshtein distance, for "did you mean …" on mistyped subcommands. */
export function editDistance(a: string, b: string): number {
  if (a.length > 64 || b.length > 64) return Math.abs(a.length - b.length) + 64;
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}
