import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALERT_KINDS, KIND_NAMES, adviceFor } from '../../src/alerts/kinds.js';
import { alertKindsTable, TABLE_END, TABLE_START } from '../../src/alerts/readme-table.js';
import type { Alert, AlertKind } from '../../src/alerts/model.js';
import { alertMessage } from '../../src/dispatch/messages.js';
import { ConsoleDestination } from '../../src/destinations/console.js';
import { toWire } from '../../src/destinations/webhook.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

function alert(kind: AlertKind, labels: Record<string, string> = {}, subject = 'ts-laptop'): Alert {
  const t = '2026-11-26T10:00:00.000Z';
  return { fingerprint: `${kind}:${subject}`, kind, severity: 'warning', subject, summary: 's', evidence: [], labels, status: 'firing', startsAt: t, updatedAt: t, endsAt: null, occurrences: 1 };
}

describe('alert kinds: README and advice cannot drift from the code', () => {
  it('the README table is exactly the one generated from src/alerts/kinds.ts (regenerate with npm run docs:kinds)', () => {
    const a = readme.indexOf(TABLE_START);
    const b = readme.indexOf(TABLE_END);
    expect(a, 'README.md lost its alert-kinds markers').toBeGreaterThan(0);
    expect(readme.slice(a + TABLE_START.length, b).trim()).toBe(alertKindsTable());
  });

  it('every kind in the code has a README row, and every README row is a kind', () => {
    const section = readme.slice(readme.indexOf(TABLE_START), readme.indexOf(TABLE_END));
    const rows = [...section.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    expect(rows.sort()).toEqual([...KIND_NAMES].sort());
    expect(KIND_NAMES.length).toBeGreaterThanOrEqual(15);
  });

  it.each(KIND_NAMES)('%s has a meaning, fire and clear rules, and non-empty advice with and without evidence', (kind) => {
    const e = ALERT_KINDS[kind];
    for (const text of [e.meaning, e.fires, e.clears, e.whatToDo]) expect(text.trim().length).toBeGreaterThan(0);
    for (const labels of [{} as Record<string, string>, { nodeId: '7', nodeName: 'laptop', errorCode: 'unauthorized', direction: 'below', cpuLimit: '1.5', format: 'x' }]) {
      const advice = adviceFor(alert(kind, labels));
      expect(advice.text.length).toBeGreaterThan(20);
      if (advice.command) expect(advice.command).toMatch(/^\/headscale [a-z-]+/);
    }
  });

  it('advice follows the evidence: what floods, whether a CPU limit is set, why the API is unusable', () => {
    const storm = adviceFor(alert('ratelimit-flood', { format: 'control: [v\\x00JSON]%d%s' }));
    expect(storm.text).toMatch(/map-response storm/);
    expect(storm.command).toBe('/headscale rejoin ts-laptop');
    expect(adviceFor(alert('ratelimit-flood', { format: 'netcheck: UDP is blocked, trying HTTPS' })).text).toMatch(/^Network reachability: .*UDP 41641.*STUN/);
    expect(adviceFor(alert('ratelimit-flood', { format: 'Received error: %v' })).text).toMatch(/login or reconnect loop/);
    expect(adviceFor(alert('cpu-sustained', { cpuLimit: 'none' })).text).toMatch(/no CPU limit/);
    expect(adviceFor(alert('cpu-sustained', { cpuLimit: '1.5' })).text).not.toMatch(/no CPU limit/);
    expect(adviceFor(alert('headscale-unreachable', { errorCode: 'unauthorized' })).text).toMatch(/apikeys create/);
    expect(adviceFor(alert('headscale-unreachable', { errorCode: 'timeout' })).text).toMatch(/HEADSCALE_URL/);
    expect(adviceFor(alert('version-skew', { direction: 'ahead' })).text).toMatch(/^Upgrade Headscale/);
  });

  it('chat messages, console lines and webhook bodies carry the advice, with the configured command name', async () => {
    const a = alert('ratelimit-flood', { format: 'control: [v\\x00JSON]%d%s' });
    const m = alertMessage(a, { now: Date.parse(a.startsAt), commandName: 'hs' });
    expect(m.blocks).toContainEqual({ type: 'text', text: expect.stringMatching(/^What to do: Headscale floods this client .* Try `\/hs rejoin ts-laptop`\.$/) });
    const resolved = alertMessage({ ...a, status: 'resolved', endsAt: a.startsAt }, { now: Date.parse(a.startsAt) });
    expect(JSON.stringify(resolved.blocks)).not.toContain('What to do');
    const lines: string[] = [];
    await new ConsoleDestination({ write: (s: string) => lines.push(s) }, { commandName: 'hs' }).send([{ ...a, notification: 'firing' }]);
    expect(lines[0]).toMatch(/ FIRING .* \[next: Headscale floods this client .* \(\/hs rejoin ts-laptop\)\]\n$/);
    expect(toWire(a, 'hs')).toMatchObject({ advice: expect.stringContaining('map-response storm'), command: '/hs rejoin ts-laptop' });
    expect(toWire({ ...a, status: 'resolved' })).not.toHaveProperty('advice');
  });
});
