import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadRules, parseRules, requiredLiteral, RulesError } from '../../src/rules/load.js';
import { RuleDetector } from '../../src/rules/detector.js';
import { RuleSet } from '../../src/rules/matcher.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';

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
});
