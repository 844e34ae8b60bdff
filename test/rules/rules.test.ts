import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadRules, parseRules, requiredLiteral, RulesError } from '../../src/rules/load.js';
import { RuleDetector } from '../../src/rules/detector.js';
import { RuleSet } from '../../src/rules/matcher.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';
import { mulberry32 } from '../support/prng.js';

const dir = mkdtempSync(join(tmpdir(), 'hw-rules-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}
function problems(text: string): string[] {
  try {
    parseRules(text, 'rules.yaml');
  } catch (err) {
    if (err instanceof RulesError) return err.problems;
    throw err;
  }
  return [];
}
const ctr = (name: string, image = 'tailscale/tailscale:v1.80.3'): WatchedContainer => ({ name, id: name, image, role: 'tailscale', running: true });

describe('loading the rules file', () => {
  it('names the rule and what is wrong, for every problem at once', () => {
    const p = problems(`rules:
  - name: both
    match: x
    regex: y
  - name: backref
    regex: '(a)\\1'
  - name: lookahead
    regex: 'foo(?=bar)'
  - name: bad-window
    match: x
    window: soon
    severity: loud
  - match: nameless
  - name: typo
    mach: x
`);
    expect(p).toEqual([
      'rule "both": give exactly one of match (a substring) or regex',
      expect.stringMatching(/^rule "backref": regex: .*backreferences are refused: they cannot run in linear time/),
      expect.stringMatching(/^rule "lookahead": regex: .*lookaround and backreferences are refused/),
      'rule "bad-window": window: a duration such as 90s, 5m or 1h (got "soon")',
      'rule "bad-window": severity: info, warning or critical',
      'rule #5: name: required, 1–64 letters, digits, . _ or -',
      'rule "typo": unknown key "mach" (allowed: name, containers, match, regex, ignore_case, count, window, clear_after, severity, summary)',
      'rule "typo": give exactly one of match (a substring) or regex',
    ]);
  });

  it('refuses duplicate names, a file without a rules list, bad YAML and a missing file', () => {
    expect(problems('rules:\n  - {name: a, match: x}\n  - {name: a, match: y}\n')).toEqual(['rule "a": the name is used by another rule; names must be unique']);
    expect(problems('- name: a\n')).toEqual(['expected a top-level `rules:` list']);
    expect(problems('rules: [\n')[0]).toMatch(/^not valid YAML/);
    expect(() => loadRules(join(dir, 'missing.yaml'))).toThrow(/cannot read the file \(ENOENT\)/);
  });

  it('stops the start with a configuration error naming the file and the rule (exit 2 in main)', () => {
    const path = file('bad.yaml', 'rules:\n  - name: slow\n    regex: "(?<=x)y"\n');
    let err: unknown;
    try {
      loadConfig({ dotenvPath: false, env: { HEADWATCH_RULES_FILE: path } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`HEADWATCH_RULES_FILE ${path}: rule "slow": regex:`);
  });

  it('reads defaults: every container, one match fires, 5 min window, clears after the window, warning', () => {
    const [r] = parseRules('rules:\n  - name: oom\n    match: out of memory\n', 'r.yaml');
    expect(r).toMatchObject({ name: 'oom', containers: ['*'], count: 1, windowMs: 300_000, clearAfterMs: 300_000, severity: 'warning', literal: 'out of memory' });
  });
});

describe('regular expressions run in linear time', () => {
  it('runs a pattern that backtracks catastrophically in JavaScript without stalling the line', () => {
    // /(a+)+$/ on "aaaa…!" takes exponential time in a backtracking engine (V8 hangs at ~30 characters).
    const [r] = parseRules("rules:\n  - name: evil\n    regex: '(a+)+$'\n", 'r.yaml');
    const set = new RuleSet([r!]);
    const line = `${'a'.repeat(100_000)}!`;
    expect(set.match(ctr('ts-a'), line, 0)).toBeUndefined();
    expect(set.match(ctr('ts-a'), 'aaaa', 0)).toHaveLength(1);
  });

  it('finds the literal every match contains, to screen lines cheaply', () => {
    expect(requiredLiteral('database is locked \\((\\w+)\\)')).toBe('database is locked (');
    expect(requiredLiteral('failed to (\\w+) map')).toBe('failed to ');
    expect(requiredLiteral('foo|bar')).toBeUndefined();
    expect(requiredLiteral('colou?r error')).toBe('r error');
    expect(requiredLiteral('[0-9]+')).toBeUndefined();
  });

  it('never screens out a line the pattern matches: escapes, classes, counts and (?i) bound the literal', () => {
    expect(requiredLiteral('(?i)panic now')).toBeUndefined();
    expect(requiredLiteral('fatal (?i)panic now')).toBe('fatal ');
    expect(requiredLiteral('abc\\x41def')).toBe('abc');
    expect(requiredLiteral('\\x{41}defg')).toBe('defg');
    expect(requiredLiteral('\\pLabcdef')).toBe('abcdef');
    expect(requiredLiteral('\\101bcdefg')).toBe('bcdefg');
    expect(requiredLiteral('a{100}')).toBeUndefined();
    expect(requiredLiteral('[[:alpha:]]abc')).toBe('abc');
    expect(requiredLiteral('[^]abc]xyz')).toBe('xyz');
    expect(requiredLiteral('[\\]abc]xyz')).toBe('xyz');
    expect(requiredLiteral('\\Qa.b(c\\Edefg')).toBe('defg');
    for (const [pattern, line] of [['(?i)panic now', 'PANIC NOW'], ['abc\\x41def', 'abcAdef'], ['[[:alpha:]]abc', 'kabc'], ['x{100}', 'x'.repeat(100)]] as const) {
      const [r] = parseRules(`rules:\n  - name: r\n    regex: '${pattern}'\n`, 'r.yaml');
      expect(new RuleSet([r!]).match(ctr('ts-a'), `2026-11-26 ${line} end`, 0), pattern).toHaveLength(1);
    }
  });

  it('matches every line its pattern matches, for generated patterns and lines (the screen loses nothing)', () => {
    // Pattern pieces with strings each one matches; a line is made of one string per piece.
    const pieces: Array<[string, string[]]> = [
      ['database', ['database']], [' is ', [' is ']], ['lock', ['lock']], ['\\(', ['(']], ['\\.', ['.']], ['-', ['-']],
      ['\\x41', ['A']], ['\\x{42}', ['B']], ['\\101', ['A']], ['\\pL', ['x', 'Q']], ['\\p{Lu}', ['Z']],
      ['[]a]', [']', 'a']], ['[^]x]', ['q']], ['[[:alpha:]]', ['k']], ['[\\]z]', [']', 'z']], ['[0-9]', ['4']],
      ['b{2}', ['bb']], ['c{1,3}', ['c', 'ccc']], ['d?', ['', 'd']], ['e*', ['', 'eee']], ['f+', ['f', 'ff']], ['g\\+', ['g+']],
      ['(?i)', ['']], ['(?i:ab)', ['ab', 'AB', 'aB']], ['(ab|cd)', ['ab', 'cd']], ['(?:xy)?', ['', 'xy']],
      ['.', ['.', 'z']], ['\\d', ['7']], ['\\w+', ['w', 'w9']], ['\\Qa.b\\E', ['a.b']], ['timeout', ['timeout']],
    ];
    const r = mulberry32(13);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
    for (let n = 0; n < 400; n++) {
      let pattern = '';
      let line = 'x ';
      let folded = false;
      for (let k = 1 + Math.floor(r() * 8); k > 0; k--) {
        const [re, samples] = pick(pieces);
        pattern += re;
        let sample = pick(samples);
        if (folded && r() < 0.5) sample = sample.toUpperCase();
        if (re === '(?i)') folded = true;
        line += sample;
      }
      line += ' y';
      const [rule] = parseRules(`rules:\n  - name: r\n    regex: '${pattern}'\n`, 'r.yaml');
      expect(rule!.regex!.test(line), `${pattern} on ${line}`).toBe(true);
      expect(new RuleSet([rule!]).match(ctr('ts-a'), line, 0), `${pattern} (literal ${JSON.stringify(rule!.literal)}) on ${line}`).toHaveLength(1);
    }
  });
});

describe('matching and summaries', () => {
  const rules = parseRules(
    `rules:
  - name: db-locked
    containers: [headscale]
    regex: 'database is locked \\((?<table>\\w+)\\)'
    summary: 'SQLite locked in $container on $<table>'
  - name: ts-errors
    containers: ['ts-*', 'image:ghcr.io/acme']
    match: PANIC
    ignore_case: true
    summary: '$rule in $container'
  - name: tagged
    regex: 'code=(\\d+) (\\w+)'
    summary: 'code $1 ($2)'
`,
    'r.yaml',
  );
  const set = new RuleSet(rules);
  const hs: WatchedContainer = { name: 'headscale', id: 'h', image: 'headscale/headscale:0.29.8', role: 'headscale', running: true };

  it('fills groups, $container and $rule into the summary', () => {
    expect(set.match(hs, '2026-11-26T08:19:34Z ERR database is locked (nodes)', 5)?.map((f) => f.summary)).toEqual(['SQLite locked in headscale on nodes']);
    expect(set.match(ctr('ts-nas'), 'panic: runtime error', 5)?.map((f) => f.summary)).toEqual(['ts-errors in ts-nas']);
    expect(set.match(ctr('other'), 'x code=42 boom', 5)?.map((f) => `${f.rule}: ${f.summary}`)).toEqual(['tagged: code 42 (boom)']);
  });

  it('applies a rule only to the containers it names, by name, glob or image substring', () => {
    expect(set.match(ctr('nas-ts'), 'PANIC here', 0)).toBeUndefined();
    expect(set.match(ctr('app', 'ghcr.io/acme/app:1'), 'PANIC here', 0)?.map((f) => f.rule)).toEqual(['ts-errors']);
    expect(set.match(ctr('ts-nas'), 'database is locked (nodes)', 0)).toBeUndefined();
  });

  it('fires at count within the window and clears after clear_after, through the shared detector machinery', () => {
    const [r] = parseRules('rules:\n  - name: flood\n    match: boom\n    count: 3\n    window: 1m\n    clear_after: 2m\n    severity: critical\n', 'r.yaml');
    const d = new RuleDetector([r!]);
    const s = new RuleSet([r!]);
    const at = (ms: number) => s.match(ctr('ts-x'), 'a boom b', ms)!.flatMap((f) => d.observe(f));
    expect([...at(0), ...at(10_000)]).toEqual([]);
    const fired = at(20_000);
    expect(fired).toHaveLength(1);
    expect(fired[0]!.action === 'fire' && fired[0]!.alert).toMatchObject({ fingerprint: 'log-rule:flood@ts-x', severity: 'critical', labels: { rule: 'flood', container: 'ts-x' } });
    expect(d.tick(20_000 + 119_000)).toEqual([]);
    expect(d.tick(20_000 + 120_000)).toEqual([{ action: 'resolve', fingerprint: 'log-rule:flood@ts-x', summary: 'Rule flood in ts-x: no match for 120 s (3 in total)' }]);
    // Three matches spread wider than the window do not fire.
    const d2 = new RuleDetector([r!]);
    const late = (ms: number) => s.match(ctr('ts-x'), 'boom', ms)!.flatMap((f) => d2.observe(f));
    expect([...late(0), ...late(40_000), ...late(80_000)]).toEqual([]);
  });

  it('counts a flood in one window up to 10,000 and keeps the total exact', () => {
    const [r] = parseRules('rules:\n  - name: flood\n    match: boom\n    window: 5m\n', 'r.yaml');
    const d = new RuleDetector([r!]);
    const s = new RuleSet([r!]);
    const events = [];
    for (let i = 0; i < 12_000; i++) events.push(...s.match(ctr('ts-x'), 'a boom b', i)!.flatMap((f) => d.observe(f)));
    expect(events.map((e) => e.action)).toEqual(['fire']);
    const [update] = s.match(ctr('ts-x'), 'a boom b', 40_000)!.flatMap((f) => d.observe(f));
    expect(update?.action === 'update' && update.alert.summary).toBe('Rule flood matched in ts-x (10000 in 5 min, 12001 in total)');
  });
});
