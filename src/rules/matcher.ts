import type { RuleMatchFinding } from '../parsers/finding.js';
import { evidence } from '../parsers/parser.js';
import type { WatchedContainer } from '../sources/docker/types.js';
import type { LogRule } from './load.js';

/**
 * Runs the user's rules on a container's lines, in the ingest path next to the built-in parser. The rules
 * that apply to a container are chosen once per container (name, glob or image substring). Per line, one
 * native RegExp made of every such rule's required literal screens the line — a line that contains none of
 * them (nearly every line) costs that single scan — and only the rules whose literal is there run in full
 * (substring, or re2js, linear in the line's length). Rules without a literal run on every line.
 */
interface ContainerRules {
  screen?: RegExp;
  screenIgnoreCase?: RegExp;
  screened: LogRule[];
  always: LogRule[];
}

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

  constructor(readonly rules: readonly LogRule[]) {}

  get size(): number {
    return this.rules.length;
  }

  private forContainer(c: WatchedContainer): ContainerRules {
    const key = `${c.name}\u0000${c.image}`;
    let cr = this.byContainer.get(key);
    if (cr) return cr;
    const mine = this.rules.filter((r) => r.containers.some((s) => selects(s, c)));
    const screened = mine.filter((r) => r.literal !== undefined);
    const exact = screened.filter((r) => !r.ignoreCase).map((r) => r.literal!.replace(ESCAPE, '\\$&'));
    const folded = screened.filter((r) => r.ignoreCase).map((r) => r.literal!.replace(ESCAPE, '\\$&'));
    cr = { screened, always: mine.filter((r) => r.literal === undefined) };
    if (exact.length > 0) cr.screen = new RegExp([...new Set(exact)].join('|'));
    if (folded.length > 0) cr.screenIgnoreCase = new RegExp([...new Set(folded)].join('|'), 'i');
    this.byContainer.set(key, cr);
    return cr;
  }

  /** Findings for the rules this line matches (usually none: then undefined, without allocating). */
  match(c: WatchedContainer, line: string, at: number): RuleMatchFinding[] | undefined {
    if (this.rules.length === 0) return undefined;
    const cr = this.forContainer(c);
    let out: RuleMatchFinding[] | undefined;
    const screenHit = cr.screen?.test(line) === true;
    const foldedHit = cr.screenIgnoreCase?.test(line) === true;
    if (screenHit || foldedHit) {
      const lower = foldedHit ? line.toLowerCase() : undefined;
      for (const r of cr.screened) {
        if (r.ignoreCase ? !foldedHit || !lower!.includes(r.literal!) : !screenHit || !line.includes(r.literal!)) continue;
        const f = this.run(r, c, line, lower, at);
        if (f) (out ??= []).push(f);
      }
    }
    for (const r of cr.always) {
      const f = this.run(r, c, line, undefined, at);
      if (f) (out ??= []).push(f);
    }
    return out;
  }

  private run(r: LogRule, c: WatchedContainer, line: string, lower: string | undefined, at: number): RuleMatchFinding | undefined {
    let groups: (name: string) => string | undefined = () => undefined;
    if (r.regex) {
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
    } else if (!(r.ignoreCase ? (lower ?? line.toLowerCase()).includes(r.match!) : line.includes(r.match!))) {
      return undefined;
    }
    const summary = r.summary.replace(/\$(?:<([A-Za-z_][A-Za-z0-9_]*)>|(\d)|(container|rule))/g, (whole, named: string | undefined, num: string | undefined, word: string | undefined) => {
      if (word === 'container') return c.name;
      if (word === 'rule') return r.name;
      const v = groups(named ?? num ?? '');
      return v === undefined ? whole : v.slice(0, 200);
    });
    return { kind: 'rule-match', at, origin: c.name, line: evidence(line), rule: r.name, summary };
  }
}
