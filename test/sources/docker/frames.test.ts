import { describe, expect, it } from 'vitest';
import { FrameDemuxer } from '../../../src/sources/docker/frames.js';
import { frame } from './frame.js';

describe('FrameDemuxer', () => {
  it('splits stdout and stderr frames even when headers and payloads straddle chunks', () => {
    const got: [string, string][] = [];
    const d = new FrameDemuxer((t, p) => got.push([t, p.toString()]));
    const bytes = Buffer.concat([frame(1, 'out one\n'), frame(2, 'err one\n'), frame(1, 'out two\n')]);
    for (let i = 0; i < bytes.length; i += 3) d.push(bytes.subarray(i, i + 3)); // 3-byte chunks
    expect(got).toEqual([
      ['stdout', 'out one\n'],
      ['stderr', 'err one\n'],
      ['stdout', 'out two\n'],
    ]);
  });

  it('passes a stream that is not multiplexed through as stdout', () => {
    const got: string[] = [];
    const d = new FrameDemuxer((_t, p) => got.push(p.toString()));
    d.push(Buffer.from('plain text that is not a frame\n'));
    d.push(Buffer.from('more\n'));
    expect(got.join('')).toBe('plain text that is not a frame\nmore\n');
  });
});
