import { describe, expect, it } from 'vitest';
import { RateLimitDetector } from '../../src/detectors/ratelimit.js';
import type { RateLimitFinding } from '../../src/parsers/finding.js';

const T0 = 1_800_000_000_000;
const STORM = 'control: [v\u0000JSON]%d%s';
const rl = (s: number, dropped = 0, format = STORM): RateLimitFinding => ({ kind: 'ratelimit', at: T0 + s * 1000, origin: 'tailscale', format, dropped, line: `[RATELIMIT] format("${format}") (${dropped} dropped)` });

describe('RateLimitDetector', () => {
  it('a single RATELIMIT line at container start does not fire', () => {
    const d = new RateLimitDetector({ count: 5, windowMs: 300_000 });
    expect(d.observe(rl(0))).toEqual([]);
    expect(d.tick(T0 + 400_000)).toEqual([]);
  });

  it('fires on repetition within the window and reports the dropped total as intensity', () => {
    const d = new RateLimitDetector({ count: 5, windowMs: 300_000, droppedThreshold: 1_000_000 });
    const events = [0, 10, 20, 30].flatMap((s, i) => d.observe(rl(s, i * 10)));
    expect(events).toEqual([]);
    const fired = d.observe(rl(40, 40));
    expect(fired).toHaveLength(1);
    const e = fired[0]!;
    expect(e.action).toBe('fire');
    if (e.action === 'fire') {
      expect(e.alert.summary).toContain('RATELIMIT ×5');
      expect(e.alert.summary).toContain('100 messages dropped');
      expect(e.alert.summary).toContain('map-response storm');
    }
  });

  it('fires on two lines with a large dropped count', () => {
    const d = new RateLimitDetector({ count: 50, windowMs: 300_000, droppedThreshold: 100 });
    d.observe(rl(0, 0));
    expect(d.observe(rl(10, 250))).toMatchObject([{ action: 'fire', alert: { severity: 'critical' } }]);
  });

  it('lines spread wider than the window never add up', () => {
    const d = new RateLimitDetector({ count: 3, windowMs: 60_000 });
    const events = [0, 61, 122, 183].flatMap((s) => d.observe(rl(s)));
    expect(events).toEqual([]);
  });

  it('clears after a quiet period', () => {
    const d = new RateLimitDetector({ count: 2, windowMs: 60_000, quietMs: 30_000 });
    d.observe(rl(0));
    d.observe(rl(1));
    expect(d.tick(T0 + 20_000)).toEqual([]);
    expect(d.tick(T0 + 31_001)).toMatchObject([{ action: 'resolve', fingerprint: 'ratelimit-flood:tailscale' }]);
  });
});
