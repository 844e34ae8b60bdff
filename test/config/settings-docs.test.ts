import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';

/**
 * Every setting lives in three places: the config schema (what headwatch reads), .env.example (what an operator
 * copies) and the README's one settings table (what an operator reads). These tests fail when they disagree.
 */
const root = new URL('../../', import.meta.url);
const schemaNames = Object.keys(configSchema.shape).sort();
const envExample = readFileSync(new URL('.env.example', root), 'utf8');
const readme = readFileSync(new URL('README.md', root), 'utf8');

/** `NAME=value` lines of .env.example (commented-out examples excluded). */
function envExampleEntries(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of envExample.split('\n')) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** Variable names in the first column of the README's settings table (a row may name several). */
function readmeSettings(): string[] {
  const start = readme.indexOf('\n## Settings');
  expect(start, 'README.md has no "## Settings" section').toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split(/(?<!\\)\|/)[1] ?? '';
    for (const m of first.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(m[1]!);
  }
  return names;
}

describe('settings: schema, .env.example and README agree', () => {
  it('every setting in the schema is in .env.example, and nothing else is', () => {
    expect([...envExampleEntries().keys()].sort()).toEqual(schemaNames);
  });

  it('every setting in the schema has a row in the README settings table, and the table names nothing else', () => {
    const names = readmeSettings();
    expect(new Set(names).size, 'a setting appears twice in the README table').toBe(names.length);
    expect([...names].sort()).toEqual(schemaNames);
  });

  it('the values .env.example shows are the defaults headwatch uses', () => {
    const defaults = loadConfig({ env: {}, dotenvPath: false }) as Record<string, unknown>;
    for (const [name, value] of envExampleEntries()) {
      if (value === '') {
        expect(defaults[name] === undefined || (Array.isArray(defaults[name]) && (defaults[name] as unknown[]).length === 0), `${name} is empty in .env.example but has a default`).toBe(true);
        continue;
      }
      const parsed = loadConfig({ env: { [name]: value }, dotenvPath: false }) as Record<string, unknown>;
      expect(parsed[name], `${name}=${value} in .env.example is not the default`).toEqual(defaults[name]);
    }
  });
});
