import { describe, expect, it } from 'vitest';
import { parseRules } from '../../src/rules/load.js';
import { LiteralScan } from '../../src/rules/literal-scan.js';
import { RuleSet } from '../../src/rules/matcher.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';
import { mulberry32 } from '../support/prng.js';

function found(scan: LiteralScan, line: string): string[] {
  const n = scan.scan(line);
  return Array.from(scan.found.subarray(0, n), (i) => scan.literals[i]!).sort();
}

describe('the one-pass literal screen', () => {
  it('reports exactly the literals a line contains: at its start and end, overlapping, repeated, among look-alikes', () => {
    const scan = new LiteralScan(['connection refused', 'refused by peer', 'panic: runtime', 'database is locked (', 'connection refused']);
    expect(scan.literals).toHaveLength(4);
    expect(found(scan, 'connection refused')).toEqual(['connection refused']);
    expect(found(scan, 'dial: connection refused by peer')).toEqual(['connection refused', 'refused by peer']);
    expect(found(scan, 'x panic: runtime x panic: runtime, connection refused, connection refused')).toEqual(['connection refused', 'panic: runtime']);
    expect(found(scan, 'connection refuse, connection  refused, panic: Runtime, database is locked')).toEqual([]);
    expect(found(scan, '')).toEqual([]);
    expect(found(scan, 'database is locked (nodes)')).toEqual(['database is locked (']);
  });

  it('agrees with includes on random text, non-ASCII included', () => {
    const r = mulberry32(7);
    const alphabet = 'abcde :()ÄéЖ😀\t';
    const pick = (n: number) => Array.from({ length: n }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    for (let round = 0; round < 80; round++) {
      const literals = Array.from({ length: 1 + Math.floor(r() * 12) }, () => pick(3 + Math.floor(r() * 10)));
      const scan = new LiteralScan(literals);
      for (let k = 0; k < 50; k++) {
        // Lines built partly from the literals, so hits are common.
        let line = pick(Math.floor(r() * 40));
        if (r() < 0.6) line += literals[Math.floor(r() * literals.length)]! + pick(Math.floor(r() * 20));
        if (r() < 0.3) line = literals[Math.floor(r() * literals.length)]!.slice(1) + line;
        expect(found(scan, line)).toEqual([...new Set(literals.filter((l) => line.includes(l)))].sort());
      }
    }
  });
});

describe('the rule set gives the same answers as checking every rule on every line', () => {
  const rules = parseRules(
    `rules:
  - {name: short, match: "ab:", containers: [hs]}
  - {name: long-a, match: "connection refused", containers: [hs, 'ts-*']}
  - {name: long-b, regex: 'refused (\\w+) peer', containers: [hs], summary: 'by $1'}
  - {name: folded, match: "PANIC now", ignore_case: true, containers: [hs]}
  - {name: shared, match: "connection refused", containers: [hs]}
  - {name: free, regex: '^x+$', containers: [hs]}
  - {name: elsewhere, match: "connection refused", containers: [other]}
  - {name: regex-literal, regex: 'timeout sending to (channel|queue)', containers: [hs]}
`,
    'r.yaml',
  );
  const set = new RuleSet(rules);
  const hs: WatchedContainer = { name: 'hs', id: 'h', image: 'headscale/headscale:0.29.8', role: 'headscale', running: true };

  /** The plain definition: every rule of the container, in file order, its substring or pattern on the line. */
  function reference(line: string): string[] {
    return rules
      .filter((r) => r.containers.includes('hs'))
      .filter((r) => (r.regex ? r.regex.test(line) : r.ignoreCase ? line.toLowerCase().includes(r.match!) : line.includes(r.match!)))
      .map((r) => r.name);
  }

  it('on lines made of the rules’ words, in file order', () => {
    const r = mulberry32(11);
    const words = ['connection', 'refused', 'by', 'peer', 'ab:', 'a', 'b:', 'PANIC', 'panic', 'now', 'x', 'xx', 'timeout', 'sending', 'to', 'channel', 'queue', ':'];
    for (let k = 0; k < 3000; k++) {
      const n = Math.floor(r() * 8);
      const line = Array.from({ length: n }, () => words[Math.floor(r() * words.length)]).join(r() < 0.8 ? ' ' : '');
      expect(set.match(hs, line, 0)?.map((f) => f.rule) ?? [], line).toEqual(reference(line));
    }
  });

  it('fills groups only where the summary asks for them', () => {
    expect(set.match(hs, 'connection refused by peer', 0)?.map((f) => `${f.rule}: ${f.summary}`)).toEqual([
      'long-a: Rule long-a matched in hs',
      'long-b: by by',
      'shared: Rule shared matched in hs',
    ]);
  });

  it('follows a container that is renamed in place', () => {
    const c: WatchedContainer = { ...hs, name: 'other' };
    expect(set.match(c, 'connection refused', 0)?.map((f) => f.rule)).toEqual(['elsewhere']);
    c.name = 'hs';
    expect(set.match(c, 'connection refused', 0)?.map((f) => f.rule)).toEqual(['long-a', 'shared']);
  });
});
