import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/parsers/finding.js';
import { headscaleParser } from '../../../src/parsers/headscale.js';
import { LineSplitter, type SkipReason } from '../../../src/sources/docker/lines.js';

function collect(maxLineBytes?: number): { splitter: LineSplitter; lines: string[]; skipped: SkipReason[] } {
  const lines: string[] = [];
  const skipped: SkipReason[] = [];
  const splitter = new LineSplitter({
    ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
    onLine: (l) => lines.push(l),
    onSkipped: (r) => skipped.push(r),
  });
  return { splitter, lines, skipped };
}

const b = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('LineSplitter', () => {
  it('splits lines within and across chunks and flushes the last one on end()', () => {
    const { splitter, lines, skipped } = collect();
    splitter.push(b('first\nsec'));
    splitter.push(b('ond\nth'));
    splitter.push(b('ir'));
    splitter.push(b('d\nfourth'));
    expect(lines).toEqual(['first', 'second', 'third']);
    splitter.end();
    expect(lines).toEqual(['first', 'second', 'third', 'fourth']);
    expect(skipped).toEqual([]);
  });

  it('strips CRLF endings and ignores empty lines', () => {
    const { splitter, lines } = collect();
    splitter.push(b('a\r\n\r\n\nb\r'));
    splitter.push(b('\nc\r\n'));
    expect(lines).toEqual(['a', 'b', 'c']);
  });

  it('rejoins a multi-byte character split across chunks', () => {
    const text = 'naïve café 🚀 ok\nzweite Zeile äöü\n';
    const bytes = b(text);
    // Feed one byte at a time: every multi-byte character is split.
    const { splitter, lines, skipped } = collect();
    for (let i = 0; i < bytes.length; i++) splitter.push(bytes.subarray(i, i + 1));
    expect(lines).toEqual(['naïve café 🚀 ok', 'zweite Zeile äöü']);
    expect(skipped).toEqual([]);
    // And a cut right inside the 4-byte rocket.
    const cut = b('🚀').length - 2;
    const rocketAt = bytes.indexOf(b('🚀'));
    const second = collect();
    second.splitter.push(bytes.subarray(0, rocketAt + cut));
    second.splitter.push(bytes.subarray(rocketAt + cut));
    expect(second.lines).toEqual(['naïve café 🚀 ok', 'zweite Zeile äöü']);
  });

  it('skips invalid UTF-8 but keeps a genuine U+FFFD', () => {
    const { splitter, lines, skipped } = collect();
    splitter.push(Buffer.concat([b('good\nbad '), Buffer.from([0xc3, 0x28, 0xff]), b(' line\nreplacement \uFFFD is text\n')]));
    expect(lines).toEqual(['good', 'replacement \uFFFD is text']);
    expect(skipped).toEqual(['invalid-utf8']);
  });

  it('skips binary lines with NUL or other control bytes', () => {
    const { splitter, lines, skipped } = collect();
    splitter.push(Buffer.concat([b('before\n'), Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]), b('\nbell\x07\nafter\ttab\n')]));
    expect(lines).toEqual(['before', 'after\ttab']);
    expect(skipped).toEqual(['binary', 'binary']);
  });

  it('strips ANSI colour codes (zerolog console with a TTY)', () => {
    const { splitter, lines, skipped } = collect();
    splitter.push(b('\x1b[90m2026-11-26T08:19:34Z\x1b[0m \x1b[32mINF\x1b[0m Node connected \x1b[36mnode.id=\x1b[0m7\n'));
    expect(lines).toEqual(['2026-11-26T08:19:34Z INF Node connected node.id=7']);
    expect(skipped).toEqual([]);
  });

  it('gives the same lines and skips for one large chunk as for one line a push (as Docker frames arrive)', () => {
    const mixed = [
      b('2026-11-26T08:19:34Z INF node connected node.id=7\r\n'),
      Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x0a]),
      b('\x1b[32mINF\x1b[0m coloured\n'),
      b('bell\x07\n'),
      b('tab\tand del\x7f\n'),
      b('naïve café\n'),
      b('\x1b[31m\x1b[0m\n'),
      b('plain ascii with a\ttab\n'),
    ];
    // Padding lines make the joined input large enough for the whole-chunk screen.
    const pad = Array.from({ length: 40 }, (_, i) => b(`padding line ${i} ${'x'.repeat(60)}\n`));
    const split = (input: Buffer[]) => {
      const whole = collect();
      whole.splitter.push(Buffer.concat(input));
      const perLine = collect();
      for (const frame of input) perLine.splitter.push(frame);
      expect(Buffer.concat(input).length).toBeGreaterThan(4096);
      expect(perLine.lines).toEqual(whole.lines);
      expect(perLine.skipped).toEqual(whole.skipped);
      return whole;
    };
    // Not ASCII (the café line), ASCII with control bytes, and clean ASCII: each chunk takes another screen.
    const all = split([...pad, ...mixed, ...pad]);
    expect(all.lines.slice(40, 45)).toEqual(['2026-11-26T08:19:34Z INF node connected node.id=7', 'INF coloured', 'naïve café', 'plain ascii with a\ttab', 'padding line 0 ' + 'x'.repeat(60)]);
    expect(all.skipped).toEqual(['binary', 'binary', 'binary']);
    const ascii = split([...pad, ...mixed.filter((m) => !m.toString().includes('café')), ...pad]);
    expect(ascii.lines).toHaveLength(83);
    expect(ascii.skipped).toEqual(['binary', 'binary', 'binary']);
    const clean = split([...pad, mixed[0]!, mixed[7]!, ...pad]);
    expect(clean.lines).toHaveLength(82);
    expect(clean.skipped).toEqual([]);
  });

  it('drops a 5 MB line once, without buffering past the cap, and carries on', () => {
    const max = 64 * 1024;
    const { splitter, lines, skipped } = collect(max);
    const huge = Buffer.alloc(5 * 1024 * 1024, 0x61);
    const stream = Buffer.concat([b('before\npartial start '), huge, b(' end of huge\nafter\n')]);
    let maxBuffered = 0;
    let maxCapacity = 0;
    for (let i = 0; i < stream.length; i += 65536) {
      splitter.push(stream.subarray(i, i + 65536));
      maxBuffered = Math.max(maxBuffered, splitter.bufferedBytes);
      maxCapacity = Math.max(maxCapacity, splitter.capacityBytes);
    }
    splitter.end();
    expect(lines).toEqual(['before', 'after']);
    expect(skipped).toEqual(['oversize']);
    expect(maxBuffered).toBeLessThanOrEqual(max);
    expect(maxCapacity).toBeLessThanOrEqual(max);
  });

  it('drops an oversize line contained in one chunk and an unterminated one at end()', () => {
    const { splitter, lines, skipped } = collect(16);
    splitter.push(b('exactly-16-bytes\n17-bytes-is-long!\nok\n'));
    expect(lines).toEqual(['exactly-16-bytes', 'ok']);
    expect(skipped).toEqual(['oversize']);
    splitter.push(b('this tail has no newline and is long'));
    splitter.end();
    expect(skipped).toEqual(['oversize', 'oversize']);
    splitter.push(b('fresh\n'));
    expect(lines).toEqual(['exactly-16-bytes', 'ok', 'fresh']);
  });

  it('counts a line that crosses the cap across chunks only once', () => {
    const { splitter, lines, skipped } = collect(8);
    splitter.push(b('12345'));
    splitter.push(b('6789'));
    splitter.push(b('abcdef'));
    splitter.push(b('gh\nshort\n'));
    expect(skipped).toEqual(['oversize']);
    expect(lines).toEqual(['short']);
  });

  it('rejects a nonsensical cap', () => {
    expect(() => new LineSplitter({ maxLineBytes: 0, onLine: () => {}, onSkipped: () => {} })).toThrow(/maxLineBytes/);
  });

  it('feeds the headscale parser from Docker-sized chunks, truncated JSON included', () => {
    const lines = [
      '2026-11-26T08:23:31Z INF http request bytes=0 elapsed=3723.456 method=POST path=/machine/map proto=HTTP/2.0 remote=172.18.0.5:41234 status=200',
      '{"level":"info","node.id":7,"node.name":"nas-01","time":1795681174,"message":"node connected"}',
      '{"level":"info","node.id":8,"node.name":"nas-02","time":1795681174,"mess', // truncated by a crash
      '2026-11-26T08:19:34Z INF node disconnected node.id=7 node.name=nas-01',
    ];
    const findings: Finding[] = [];
    const splitter = new LineSplitter({
      onLine: (l) => {
        const f = headscaleParser.parse(l, 1, 'hs');
        if (f) findings.push(f);
      },
      onSkipped: () => {},
    });
    const bytes = b(lines.join('\r\n') + '\r\n');
    for (let i = 0; i < bytes.length; i += 7) splitter.push(bytes.subarray(i, i + 7));
    splitter.end();
    expect(findings.map((f) => [f.kind, 'nodeId' in f ? f.nodeId : undefined])).toEqual([
      ['node-connected', '7'],
      ['node-disconnected', '7'],
    ]);
  });
});
