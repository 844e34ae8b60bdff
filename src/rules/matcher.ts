import type { RuleMatchFinding } from '../parsers/finding.js';
import { evidence } from '../parsers/parser.js';
import type { WatchedContainer } from '../sources/docker/types.js';
import type { LogRule } from './load.js';
import { LiteralScan } from './literal-scan.js';
import { compileSummary, type Summary } from './summary.js';

/**
 * Runs the user's rules on a container's lines, in the ingest path next to the built-in parser. The rules that
 * apply to a container are chosen once per container (name, glob or image substring); rules whose containers do
 * not match are never looked at. Per line, one pass finds which rules' required literals the line contains (a
 * line holding none of them — nearly every line — costs that pass and nothing else); only those rules run in
 * full (substring, or re2js, linear in the line's length). Rules without a literal run on every line.
 *
 * The screen, exact case: literals of at least SCAN_MIN_LENGTH characters share one LiteralScan (Wu–Manber,
 * which skips up to length−1 characters a step, so one short literal would slow every line down); shorter ones
 * are each one native `includes`. Ignore-case literals: one native case-insensitive RegExp, then `includes` on
 * the lower-cased line (as before).
 */
interface RuleEntry {
  rule: LogRule;
  summary: Summary;
}

interface ContainerRules {
  name: string;
  image: string;
  /** Rules with an exact-case literal, in file order; `marks[i]` says the literal of entry i was found. */
  exact: RuleEntry[];
  marks: Uint8Array;
  scan?: LiteralScan;
  /** For each literal of `scan`, the positions in `exact` that require it. */
  scanned: number[][];
  /** Short literals, each checked with includes: [literal, positions in `exact`]. */
  short: Array<[string, number[]]>;
  folded: RuleEntry[];
  foldedScreen?: RegExp;
  always: RuleEntry[];
}

/** Below this length a literal is checked on its own: the shared scan's stride is the shortest literal's length. */
const SCAN_MIN_LENGTH = 8;

const ESCAPE = /[.*+?^${}()|[\]\\]/g;

function selects(selector: string, c: WatchedContainer): boolean {
  if (selector.startsWith('image:')) return c.image.includes(selector.slice(6));
  if (selector.includes('*') || selector.includes('?')) {
    const re = new RegExp(`^${selector.replace(ESCAPE, (ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : `\\${ch}`))}$`);
    return re.test(c.name);
  }
  return selector === c.name;
}

export class RuleSet {
  private readonly byContainer = new Map<string, ContainerRules>();
  /** The container object a line last came from, and its rules: lines arrive in runs from one container. */
  private lastContainer: WatchedContainer | undefined;
  private lastRules: ContainerRules | undefined;
  private readonly summaries: Map<LogRule, Summary>;
  private readonly order: Map<string, number>;

  constructor(readonly rules: readonly LogRule[]) {
    this.summaries = new Map(rules.map((r) => [r, compileSummary(r.summary)]));
    this.order = new Map(rules.map((r, i) => [r.name, i]));
  }

  get size(): number {
    return this.rules.length;
  }

  private forContainer(c: WatchedContainer): ContainerRules {
    const last = this.lastRules;
    if (this.lastContainer === c && last !== undefined && last.name === c.name && last.image === c.image) return last;
    const key = `${c.name}\u0000${c.image}`;
    let cr = this.byContainer.get(key);
    if (!cr) {
      cr = this.build(c);
      this.byContainer.set(key, cr);
    }
    this.lastContainer = c;
    this.lastRules = cr;
    return cr;
  }

  private build(c: WatchedContainer): ContainerRules {
    const entry = (rule: LogRule): RuleEntry => ({ rule, summary: this.summaries.get(rule)! });
    const mine = this.rules.filter((r) => r.containers.some((s) => selects(s, c)));
    const exact = mine.filter((r) => r.literal !== undefined && !r.ignoreCase).map(entry);
    const folded = mine.filter((r) => r.literal !== undefined && r.ignoreCase).map(entry);
    const byLiteral = new Map<string, number[]>();
    exact.forEach((e, i) => {
      const list = byLiteral.get(e.rule.literal!);
      if (list) list.push(i);
      else byLiteral.set(e.rule.literal!, [i]);
    });
    const long = [...byLiteral].filter(([lit]) => lit.length >= SCAN_MIN_LENGTH);
    const short = [...byLiteral].filter(([lit]) => lit.length < SCAN_MIN_LENGTH);
    const cr: ContainerRules = {
      name: c.name,
      image: c.image,
      exact,
      marks: new Uint8Array(exact.length),
      scanned: [],
      short,
      folded,
      always: mine.filter((r) => r.literal === undefined).map(entry),
    };
    if (long.length === 1) short.push(long[0]!);
    else if (long.length > 1) {
      cr.scan = new LiteralScan(long.map(([lit]) => lit));
      cr.scanned = cr.scan.literals.map((lit) => byLiteral.get(lit)!);
    }
    if (folded.length > 0) cr.foldedScreen = new RegExp([...new Set(folded.map((e) => e.rule.literal!.replace(ESCAPE, '\\$&')))].join('|'), 'i');
    return cr;
  }

  /** Findings for the rules this line matches (usually none: then undefined, without allocating). */
  match(c: WatchedContainer, line: string, at: number): RuleMatchFinding[] | undefined {
    if (this.rules.length === 0) return undefined;
    const cr = this.forContainer(c);
    let out: RuleMatchFinding[] | undefined;
    if (this.markExact(cr, line)) {
      for (let i = 0; i < cr.exact.length; i++) {
        if (cr.marks[i] === 0) continue;
        const f = this.run(cr.exact[i]!, c, line, undefined, at);
        if (f) (out ??= []).push(f);
      }
      cr.marks.fill(0);
    }
    if (cr.foldedScreen?.test(line) === true) {
      const exactFound = out?.length ?? 0;
      const lower = line.toLowerCase();
      for (const e of cr.folded) {
        if (!lower.includes(e.rule.literal!)) continue;
        const f = this.run(e, c, line, lower, at);
        if (f) (out ??= []).push(f);
      }
      // Findings come in file order whichever screen found them.
      if (exactFound > 0 && out!.length > exactFound) out!.sort((a, b) => this.order.get(a.rule)! - this.order.get(b.rule)!);
    }
    for (const e of cr.always) {
      const f = this.run(e, c, line, undefined, at);
      if (f) (out ??= []).push(f);
    }
    return out;
  }

  /** Marks the exact-case rules whose literal the line contains; false when there is none. */
  private markExact(cr: ContainerRules, line: string): boolean {
    let any = false;
    if (cr.scan !== undefined) {
      const n = cr.scan.scan(line);
      for (let k = 0; k < n; k++) for (const i of cr.scanned[cr.scan.found[k]!]!) cr.marks[i] = 1;
      any = n > 0;
    }
    for (const [lit, positions] of cr.short) {
      if (!line.includes(lit)) continue;
      for (const i of positions) cr.marks[i] = 1;
      any = true;
    }
    return any;
  }

  private run(e: RuleEntry, c: WatchedContainer, line: string, lower: string | undefined, at: number): RuleMatchFinding | undefined {
    const r = e.rule;
    let groups: (name: string) => string | undefined = () => undefined;
    if (r.regex) {
      // Without groups in the summary a yes/no answer is enough: re2js's test() runs its DFA, far cheaper than a
      // Matcher with captures.
      if (!e.summary.usesGroups) {
        if (!r.regex.test(line)) return undefined;
      } else {
        const m = r.regex.matcher(line);
        if (!m.find()) return undefined;
        groups = (g) => {
          try {
            const v = /^\d+$/.test(g) ? m.group(Number(g)) : m.group(g);
            return v ?? '';
          } catch {
            return undefined;
          }
        };
      }
    } else if (!(r.ignoreCase ? (lower ?? line.toLowerCase()).includes(r.match!) : line.includes(r.match!))) {
      return undefined;
    }
    const summary = e.summary.render(c.name, r.name, groups);
    return { kind: 'rule-match', at, origin: c.name, line: evidence(line), rule: r.name, summary };
  }
}
