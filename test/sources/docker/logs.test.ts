import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LogCursor, LogFollower, parseLogTimestamp, sinceParam } from '../../../src/sources/docker/logs.js';
import { frame } from './frame.js';

describe('log timestamps and the resume cursor', () => {
  it('parses RFC 3339 nano timestamps exactly and renders the since parameter', () => {
    const ns = parseLogTimestamp('2026-11-26T09:50:10.795432285Z')!;
    expect(ns).toBe(BigInt(Date.parse('2026-11-26T09:50:10Z') / 1000) * 1_000_000_000n + 795_432_285n);
    expect(sinceParam(ns)).toBe(`${Date.parse('2026-11-26T09:50:10Z') / 1000}.795432285`);
    expect(parseLogTimestamp('2026-11-26T09:50:10Z')).toBe(BigInt(Date.parse('2026-11-26T09:50:10Z') / 1000) * 1_000_000_000n);
    expect(parseLogTimestamp('2026-11-26T10:50:10.5+01:00')).toBe(parseLogTimestamp('2026-11-26T09:50:10.500000000Z'));
    expect(parseLogTimestamp('not-a-time')).toBeUndefined();
    expect(sinceParam(5n)).toBe('0.000000005');
  });

  it('skips on resume exactly the messages of the boundary nanosecond already delivered', () => {
    const c = new LogCursor(100n);
    expect([c.accept(100n), c.accept(100n), c.accept(105n), c.accept(105n)]).toEqual([true, true, true, true]);
    // The engine's `since` is inclusive: a re-attach at 105 replays both 105 messages, then new ones.
    c.resume();
    expect([c.accept(105n), c.accept(105n), c.accept(105n), c.accept(107n)]).toEqual([false, false, true, true]);
    c.resume();
    expect([c.accept(106n), c.accept(107n), c.accept(108n)]).toEqual([false, false, true]);
  });
});

describe('LogFollower framing (fed through a stream, as dockerode hands it over)', () => {
  function follower(tty: boolean, startNs = 0n) {
    const stream = new PassThrough();
    const lines: string[] = [];
    const container = { logs: async () => stream } as unknown as Docker.Container;
    const f = new LogFollower({ container, tty, startNs, onLine: (l, s) => lines.push(`${s}:${l}`), onSkipped: () => {}, onEnd: () => {} });
    return { f, stream, lines };
  }
  const T1 = '2026-11-26T09:50:10.000000001Z';
  const T2 = '2026-11-26T09:50:10.000000002Z';

  it('strips the timestamp of every multiplexed message and rejoins a line split into parts', async () => {
    const { f, stream, lines } = follower(false);
    await f.attach();
    // A line longer than the engine's buffer arrives as two messages, each with its own timestamp.
    stream.write(Buffer.concat([frame(1, `${T1} first half `), frame(1, `${T2} second half\n`), frame(2, `${T2} on stderr\n`)]));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:first half second half', 'stderr:on stderr']);
  });

  it('strips timestamps from a raw TTY stream split at awkward places', async () => {
    const { f, stream, lines } = follower(true);
    await f.attach();
    const raw = `${T1} tty one\r\n${T2} tty two\r\n`;
    for (const piece of [raw.slice(0, 5), raw.slice(5, 33), raw.slice(33, 40), raw.slice(40)]) stream.write(piece);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:tty one', 'stdout:tty two']);
  });
});
