import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.js';
import type { Platform } from '../../src/adapters/chat.js';
import { RecordingResponder, startRig, type Rig } from './harness.js';
import { mulberry32 } from '../support/prng.js';

// Seeded so a failure reproduces: the failing input is printed with the seed.
const SEED = 20261126;
const rand = mulberry32(SEED);
const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (n: number) => Math.floor(rand() * n);

const ATOMS = [
  'alice', 'bob', '1', '2', '999999999999', '-1', '0', 'laptop', 'tailscale-a', 'tag:a,tag:b', 'tag:', '1h', '90d', '0s', '-5m',
  '--reusable', '--ephemeral', '--expiration', '--tags', '--page', '--for', '--comment', '--', '---x', '--=', '—reusable',
  '"quoted arg"', "'single'", '"unterminated', '“smart”', '`code`', '<@U123>', '@here', '*bold*', '${x}', '$(rm -rf /)',
  '; DROP TABLE approvals;--', '\u0000', '\u202e', '🙂', 'ñandú', '日本語', 'Ω≈ç√', '\t', '\n', '%s%s%s', '../../etc/passwd',
  'list', 'add', 'remove', 'true', 'false', 'maybe', '3.14', '1e9', 'NaN', 'Infinity', '0x10',
];
const SUBS = [...COMMANDS.map((c) => c.name), 'NODES', 'Delete-Node', 'rm', 'approve', '', ' ', 'help', 'hlep', '🙂', 'x'.repeat(50)];

/** Returns the text and, when it starts with a sub from SUBS, that sub (the oracle for "unknown command"). */
function randomText(): { text: string; sub?: string } {
  const kind = int(10);
  if (kind === 0) return { text: 'x'.repeat(900 + int(5000)) }; // huge
  if (kind === 1) return { text: Array.from({ length: int(40) }, () => String.fromCodePoint(int(0x2ffff))).join('') }; // unicode noise
  const sub = pick(SUBS);
  const args = Array.from({ length: int(6) }, () => pick(ATOMS));
  return { text: [sub, ...args].join(pick([' ', '  ', '\t', ' \u00a0'])), sub };
}

function randomOptions(): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  const names = ['user', 'node', 'container', 'page', 'n', 'reusable', 'ephemeral', 'expiration', 'tags', 'action', 'target', 'for', 'comment', 'command', 'bogus'];
  for (let i = int(4); i > 0; i--) out[pick(names)] = pick<string | number | boolean>([pick(ATOMS), int(100) - 50, rand() < 0.5, 'x'.repeat(int(3000))]);
  return out;
}

let rig: Rig;
beforeAll(async () => {
  rig = await startRig();
});
afterAll(async () => {
  await rig.close();
});

describe('fuzzed /headscale input', () => {
  it(`every input gets one acknowledgement and a clear answer, never a crash (seed ${SEED})`, async () => {
    const users: [Platform, string][] = [['slack', 'USTRANGER'], ['slack', 'UOP'], ['discord', '111'], ['discord', '999']];
    for (let i = 0; i < 3000; i++) {
      const [platform, userId] = pick(users);
      const typed = platform === 'discord' && rand() < 0.7;
      const generated = randomText();
      const rawText = generated.text;
      const options = typed ? randomOptions() : undefined;
      // Split like the Slack adapter: first word = subcommand, the rest = rawText.
      const trimmed = rawText.trim();
      const space = trimmed.search(/\s/);
      const subcommand = typed ? pick(SUBS) : space < 0 ? trimmed : trimmed.slice(0, space);
      const rest = typed ? '' : space < 0 ? '' : trimmed.slice(space + 1).trim();
      const r = new RecordingResponder(platform);
      const label = `#${i} ${platform}:${userId} sub=${JSON.stringify(subcommand).slice(0, 60)} text=${JSON.stringify(rawText).slice(0, 120)} options=${JSON.stringify(options)?.slice(0, 120)}`;
      await expect(
        rig.router.onCommand({ platform, userId, channelId: 'C1', subcommand, rawText: rest, ...(options ? { options } : {}) }, r),
        label,
      ).resolves.toBeUndefined();
      expect(r.sent[0]?.kind, label).toBe('ack');
      expect(r.sent.filter((s) => s.kind === 'ack'), label).toHaveLength(1);
      const answer = r.last('replace');
      expect(answer, label).toBeDefined();
      expect(answer!.fallback.length, label).toBeGreaterThan(0);
      expect(answer!.fallback, label).not.toMatch(/\n\s+at .+:\d+:\d+/); // no stack traces
      expect(answer!.fallback, label).not.toContain('undefined');
      if (rest.length > 1000) expect(answer!.fallback, label).toContain('too long');
      if (answer!.fallback.startsWith('That did not work')) {
        expect(answer!.ephemeral, label).toBe(true);
        expect(answer!.fallback, label).toMatch(/\/headscale [a-z-]+/); // usage shown with the problem
      }
      const first = typed ? subcommand : generated.sub;
      const tooLong = rest.length > 1000;
      if (first !== undefined && !tooLong && first.trim() !== '' && !COMMANDS.some((c) => c.name === first.toLowerCase())) {
        expect(answer!.fallback, label).toMatch(/^That did not work: (there is no command|a quote)/);
      }
    }
    // Cards were posted only for operators' well-formed actions; nothing was deleted or created without approval.
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/*')).toHaveLength(0);
    expect(rig.hs.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
  });
});
