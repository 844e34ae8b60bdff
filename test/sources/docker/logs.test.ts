import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { LogCursor, LogFollower, parseLogTimestamp, sinceParam } from '../../../src/sources/docker/logs.js';
import { resumePoint } from '../../../src/sources/docker/resume.js';
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

  it('delivers a message stamped before one already delivered on the same attach (stderr behind stdout), once', () => {
    const c = new LogCursor(100n);
    // stdout stamped 105 arrives first, then a stderr line the engine stamped at 103.
    expect([c.accept(105n), c.accept(103n), c.accept(105n)]).toEqual([true, true, true]);
    expect([c.ns, c.seenAtNs]).toEqual([105n, 2]);
    // A re-attach from 105 replays only messages at or after 105 (the 103 one is below since): both 105s skipped.
    c.resume();
    expect([c.accept(105n), c.accept(105n), c.accept(104n), c.accept(106n)]).toEqual([false, false, false, true]);
  });

  it('resumed from a stored position (stamp + lines seen at it), processes neither a seen line again nor loses one', () => {
    const before = new LogCursor(0n);
    for (const ts of [90n, 100n, 100n]) before.accept(ts);
    expect([before.ns, before.seenAtNs]).toEqual([100n, 2]);
    // Another process (a restart, a new leader) starts from what was stored; the engine replays from stamp 100.
    const after = new LogCursor(before.ns, before.seenAtNs);
    after.resume();
    expect([100n, 100n, 100n, 101n].map((ts) => after.accept(ts))).toEqual([false, false, true, true]);
  });
});

describe('where a container found at start is read from (resumePoint)', () => {
  const now = Date.parse('2026-12-02T05:00:00Z');
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  const maxMs = 600_000;

  it('from its cursor when one is stored for this container, else from now', () => {
    expect(resumePoint(undefined, 'aaa', now, maxMs)).toEqual({ startNs: ns(now), seenAtStart: 0 });
    expect(resumePoint({ containerId: 'aaa', ns: ns(now - 30_000) + 7n, seenAtNs: 2 }, 'aaa', now, maxMs)).toEqual({ startNs: ns(now - 30_000) + 7n, seenAtStart: 2 });
  });

  it('never from further back than the catch-up bound, and says what it skipped', () => {
    const r = resumePoint({ containerId: 'aaa', ns: ns(now - 3_600_000), seenAtNs: 2 }, 'aaa', now, maxMs);
    expect(r).toMatchObject({ startNs: ns(now - maxMs), seenAtStart: 0 });
    expect(r.note).toMatch(/last read 3600 s ago: lines older than 10 min \(HEADWATCH_LOG_CATCHUP_MAX\) are skipped/);
  });

  it('one that started while headwatch was listing the engine (no cursor yet) is read from when watching began, within the bound', () => {
    // Both brought up by one `compose up`: the container printed its first lines before the first listing saw it
    // (and a few ms before the StartedAt the engine records), so it is read from when watching began.
    expect(resumePoint(undefined, 'aaa', now, maxMs, now - 700)).toEqual({ startNs: ns(now - 700), seenAtStart: 0 });
    expect(resumePoint(undefined, 'aaa', now, maxMs, now - 3_600_000)).toEqual({ startNs: ns(now - maxMs), seenAtStart: 0 });
    // A stored cursor for this very container still wins: those lines were read already.
    expect(resumePoint({ containerId: 'aaa', ns: ns(now - 300) + 1n, seenAtNs: 1 }, 'aaa', now, maxMs, now - 700)).toEqual({ startNs: ns(now - 300) + 1n, seenAtStart: 1 });
  });

  it('a recreated container (another id) is read from its own start, within the bound, not from the old one\'s cursor', () => {
    const r = resumePoint({ containerId: 'old', ns: ns(now - 5_000), seenAtNs: 1 }, 'new', now, maxMs);
    expect(r).toMatchObject({ startNs: ns(now - maxMs), seenAtStart: 0 });
    expect(r.note).toMatch(/recreated/);
  });
});

describe('LogFollower framing (fed through a stream, as dockerode hands it over)', () => {
  function follower(tty: boolean, startNs = 0n) {
    const stream = new PassThrough();
    const lines: string[] = [];
    const stamps: (bigint | undefined)[] = [];
    const container = { logs: async () => stream } as unknown as Docker.Container;
    const f = new LogFollower({
      container,
      tty,
      startNs,
      onLine: (l, s, atNs) => {
        lines.push(`${s}:${l}`);
        stamps.push(atNs);
      },
      onSkipped: () => {},
      onEnd: () => {},
    });
    return { f, stream, lines, stamps };
  }
  const T1 = '2026-11-26T09:50:10.000000001Z';
  const T2 = '2026-11-26T09:50:10.000000002Z';

  it('strips the timestamp of every multiplexed message and rejoins a line split into parts', async () => {
    const { f, stream, lines, stamps } = follower(false);
    await f.attach();
    // A line longer than the engine's buffer arrives as two messages, each with its own timestamp.
    stream.write(Buffer.concat([frame(1, `${T1} first half `), frame(1, `${T2} second half\n`), frame(2, `${T2} on stderr\n`)]));
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:first half second half', 'stderr:on stderr']);
    expect(stamps).toEqual([parseLogTimestamp(T2), parseLogTimestamp(T2)]); // each line carries the stamp of the message that completed it
  });

  it('strips timestamps from a raw TTY stream split at awkward places', async () => {
    const { f, stream, lines, stamps } = follower(true);
    await f.attach();
    const raw = `${T1} tty one\r\n${T2} tty two\r\n`;
    for (const piece of [raw.slice(0, 5), raw.slice(5, 33), raw.slice(33, 40), raw.slice(40)]) stream.write(piece);
    await new Promise((r) => setImmediate(r));
    expect(lines).toEqual(['stdout:tty one', 'stdout:tty two']);
    expect(stamps).toEqual([parseLogTimestamp(T1), parseLogTimestamp(T2)]);
  });
});
