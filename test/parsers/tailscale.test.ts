import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/parsers/finding.js';
import { readGoQuoted, unquoteGo } from '../../src/parsers/gostring.js';
import { tailscaleParser } from '../../src/parsers/tailscale.js';

const AT = 1_742_223_932_000;
const ORIGIN = 'tailscale';

function parse(line: string): Finding | undefined {
  return tailscaleParser.parse(line, AT, ORIGIN);
}

function expectFinding(line: string, expected: Record<string, unknown>): void {
  expect(parse(line)).toStrictEqual({ ...expected, at: AT, origin: ORIGIN, line });
}

describe('[RATELIMIT] lines', () => {
  it('unescapes the Go %q format, including \\x00 that JSON cannot read', () => {
    expectFinding('2025/03/17 15:05:32 [RATELIMIT] format("control: [v\\x00JSON]%d%s")', {
      kind: 'ratelimit',
      format: 'control: [v\u0000JSON]%d%s',
      dropped: 0,
    });
    expectFinding('[RATELIMIT] format("[v\\x00JSON]%d%s")', { kind: 'ratelimit', format: '[v\u0000JSON]%d%s', dropped: 0 });
  });

  it('reads the dropped count', () => {
    expectFinding('[RATELIMIT] format("Received error: %v") (3 dropped)', { kind: 'ratelimit', format: 'Received error: %v', dropped: 3 });
    expectFinding('2025/03/17 15:05:42.123456 [RATELIMIT] format("control: [v\\x00JSON]%d%s") (37 dropped)', {
      kind: 'ratelimit',
      format: 'control: [v\u0000JSON]%d%s',
      dropped: 37,
    });
  });

  it('reads the samples from tailscale/tailscale#15339 and #14089', () => {
    expectFinding('2025/03/17 15:05:32 [RATELIMIT] format("health(warnable=%s): ok")', {
      kind: 'ratelimit',
      format: 'health(warnable=%s): ok',
      dropped: 0,
    });
    expectFinding('[RATELIMIT] format("control: controlhttp: forcing port 443 dial due to recent noise dial")', {
      kind: 'ratelimit',
      format: 'control: controlhttp: forcing port 443 dial due to recent noise dial',
      dropped: 0,
    });
  });

  it('handles quotes, backslashes, tabs, newlines and unicode escapes in the format', () => {
    expectFinding('[RATELIMIT] format("say \\"%s\\"\\tpath C:\\\\x\\n\\u00e9\\xc3\\xa9\\U0001F600")', {
      kind: 'ratelimit',
      format: 'say "%s"\tpath C:\\x\né\u00e9😀',
      dropped: 0,
    });
  });

  it('recognises the pre-1.8 [RATE LIMITED] wording', () => {
    expectFinding('[RATE LIMITED] format string "Received error: %v" (example: "Received error: PollNetMap: EOF")', {
      kind: 'ratelimit',
      format: 'Received error: %v',
      dropped: 0,
    });
  });

  it('keeps the raw format when its escapes are malformed instead of dropping the line', () => {
    expectFinding('[RATELIMIT] format("bad \\q escape") (2 dropped)', { kind: 'ratelimit', format: 'bad \\q escape', dropped: 2 });
  });
});

describe('control-client lines', () => {
  it('keeps the error text of Received error lines', () => {
    expectFinding(
      'Received error: PollNetMap: Post "https://thagoat.xyz:8080/machine/map": connection attempts aborted by context: context deadline exceeded',
      {
        kind: 'control-error',
        error: 'PollNetMap: Post "https://thagoat.xyz:8080/machine/map": connection attempts aborted by context: context deadline exceeded',
        via: 'received-error',
        class: 'other',
        peer: 'thagoat.xyz',
      },
    );
    expectFinding('2026/04/23 20:17:08 Received error: invalid key: API key does not exist', {
      kind: 'control-error',
      error: 'invalid key: API key does not exist',
      via: 'received-error',
      class: 'auth',
    });
    expectFinding('Received error: PollNetMap: unexpected EOF', { kind: 'control-error', error: 'PollNetMap: unexpected EOF', via: 'received-error', class: 'other' });
  });

  it('reads the long-poll timeout and the forced 443 dial', () => {
    expectFinding('2026/05/21 14:30:43 control: map response long-poll timed out!', { kind: 'map-poll-timeout' });
    expectFinding('control: controlhttp: forcing port 443 dial due to recent noise dial', { kind: 'forced-443' });
    expectFinding('2025/03/17 15:05:32 control: controlhttp: forcing port 443 dial due to recent noise dial', { kind: 'forced-443' });
  });

  it('reads the client version from Program starting', () => {
    expectFinding(
      '2024/09/19 15:32:40 Program starting: v1.74.1-t0ca17be4a, Go 1.23.1: []string{"tailscaled", "--socket=/tmp/tailscaled.sock", "--statedir=/var/lib/tailscale", "--tun=userspace-networking"}',
      { kind: 'client-version', version: '1.74.1' },
    );
  });
});

describe('health lines', () => {
  it('reads ok and error forms', () => {
    expectFinding('2025/03/17 15:05:32 health(warnable=warming-up): ok', { kind: 'health', warnable: 'warming-up', ok: true });
    expectFinding(
      '2026/04/23 20:17:08 health(warnable=login-state): error: You are logged out. The last login error was: invalid key: API key does not exist',
      {
        kind: 'health',
        warnable: 'login-state',
        ok: false,
        text: 'You are logged out. The last login error was: invalid key: API key does not exist',
      },
    );
    expectFinding('health(warnable=no-derp-home): error: Tailscale could not connect to any relay server. Check your Internet connection.', {
      kind: 'health',
      warnable: 'no-derp-home',
      ok: false,
      text: 'Tailscale could not connect to any relay server. Check your Internet connection.',
    });
  });

  it('reads the pre-1.70 overall form', () => {
    expectFinding('2023/01/02 10:00:00 health("overall"): error: not in map poll', {
      kind: 'health',
      warnable: 'overall',
      ok: false,
      text: 'not in map poll',
    });
  });
});

describe('containerboot lines', () => {
  const cases: Array<[string, string | undefined]> = [
    ['boot: 2024/09/19 15:32:40 Starting tailscaled', 'starting'],
    ['boot: 2024/09/19 15:32:40 Waiting for tailscaled socket', undefined],
    ['boot: 2024/09/20 14:26:25 tailscaled in state "NoState", waiting', undefined],
    ['boot: 2024/09/20 14:26:25 tailscaled in state "NeedsLogin", waiting', 'needs-login'],
    ['boot: 2024/09/20 14:26:27 machine authorization required, please visit the admin panel', 'needs-login'],
    ['boot: 2024/09/20 14:26:30 Startup complete, waiting for shutdown signal', 'startup-complete'],
    ['boot: 2024/09/20 15:00:00 tailscaled left running state (now in state "NeedsLogin"), exiting', 'left-running'],
    ['boot: 2022/12/31 03:23:23 failed to auth tailscale: couldn\'t log in: tailscale up failed: signal: killed', 'auth-failed'],
    ['boot: 2026/05/30 07:06:34 Sending SIGTERM to tailscaled', 'shutdown'],
  ];
  for (const [line, event] of cases) {
    it(`reads ${line.slice(26)}`, () => {
      const message = line.slice('boot: 2024/09/19 15:32:40 '.length);
      expectFinding(line, event === undefined ? { kind: 'boot', message } : { kind: 'boot', message, event });
    });
  }

  it('accepts a boot line without the date', () => {
    expectFinding('boot: Starting tailscaled', { kind: 'boot', message: 'Starting tailscaled', event: 'starting' });
  });

  it('skips a Docker timestamp prefix', () => {
    expectFinding('2024-09-19T15:32:40.123456789Z boot: 2024/09/19 15:32:40 Starting tailscaled', {
      kind: 'boot',
      message: 'Starting tailscaled',
      event: 'starting',
    });
  });
});

describe('unrecognised and malformed lines', () => {
  it('returns nothing for ordinary tailscaled chatter', () => {
    const lines = [
      '2024/09/19 15:32:40 logtail started',
      '2024/09/19 15:32:40 magicsock: disco key = d:<*****>',
      '2024/09/20 14:26:25 control: client.Login(0)',
      'health(warnable=x): maybe',
      'Received error: ',
      '[RATELIMIT] format(nope)',
      'Program starting: dev build',
    ];
    for (const line of lines) expect(parse(line), line).toBeUndefined();
  });

  it('never throws on garbage', () => {
    const lines = ['', '[', '[RATELIMIT] format("', '[RATELIMIT] format("\\', 'health(', 'health("', 'boot: ', '\u0000\u0001', 'x'.repeat(100_000)];
    for (const line of lines) expect(() => parse(line)).not.toThrow();
  });
});

describe('Go string unquoting', () => {
  it('reads a literal and reports where it ends', () => {
    expect(readGoQuoted('x "a\\"b" tail', 2)).toStrictEqual({ value: 'a"b', end: 8 });
    expect(unquoteGo('"\\a\\b\\f\\v\\101\\x41"')).toBe('\x07\b\f\vAA');
  });

  it('rejects unterminated literals and bad escapes', () => {
    expect(unquoteGo('"abc')).toBeUndefined();
    expect(unquoteGo('"\\xZZ"')).toBeUndefined();
    expect(unquoteGo('"\\u12"')).toBeUndefined();
    expect(unquoteGo('"\\9"')).toBeUndefined();
    expect(unquoteGo('"ok" trailing')).toBeUndefined();
  });

  it('turns invalid byte escapes into replacement characters', () => {
    expect(unquoteGo('"\\xff!"')).toBe('\uFFFD!');
  });
});
