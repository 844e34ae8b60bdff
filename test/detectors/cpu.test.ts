import { describe, expect, it } from 'vitest';
import { CpuDetector } from '../../src/detectors/cpu.js';
import type { CpuSampleFinding } from '../../src/parsers/finding.js';
import { CpuHistory } from '../../src/history/cpu.js';
import { formatAlertLine } from '../../src/destinations/console.js';
import type { Alert } from '../../src/alerts/model.js';

const T0 = 1_800_000_000_000;
const sample = (s: number, percent: number, origin = 'tailscale'): CpuSampleFinding => ({ kind: 'cpu-sample', at: T0 + s * 1000, origin, percent, cpus: 2 });
const opts = { thresholdPercent: 80, sustainMs: 60_000, clearMarginPercent: 10, maxGapMs: 35_000 };

describe('CpuDetector', () => {
  it('fires only after every sample stayed at or above the threshold for the sustain time', () => {
    const d = new CpuDetector(opts);
    const events = [0, 10, 20, 30, 40, 50].flatMap((s) => d.observe(sample(s, 95)));
    expect(events).toEqual([]);
    const fired = d.observe(sample(60, 95));
    expect(fired).toHaveLength(1);
    expect(fired[0]).toMatchObject({ action: 'fire', alert: { kind: 'cpu-sustained', subject: 'tailscale', fingerprint: 'cpu-sustained:tailscale' } });
  });

  it('a dip below the threshold restarts the sustain clock', () => {
    const d = new CpuDetector(opts);
    const events = [[0, 95], [30, 95], [40, 50], [50, 95], [60, 95], [70, 95], [80, 95], [90, 95], [100, 95]].flatMap(([s, p]) => d.observe(sample(s!, p!)));
    expect(events).toEqual([]);
    expect(d.observe(sample(110, 95))).toHaveLength(1);
  });

  it('does not clear between threshold−margin and threshold, clears after sustained time below it', () => {
    const d = new CpuDetector(opts);
    for (let s = 0; s <= 60; s += 10) d.observe(sample(s, 95));
    const hovering = [70, 80, 90, 100, 200].flatMap((s) => d.observe(sample(s, 75)));
    expect(hovering).toEqual([]);
    const below = [210, 220, 230, 240, 250, 260].flatMap((s) => d.observe(sample(s, 20)));
    expect(below).toEqual([]);
    const cleared = d.observe(sample(270, 20));
    expect(cleared).toMatchObject([{ action: 'resolve', fingerprint: 'cpu-sustained:tailscale' }]);
  });

  it('a gap in sampling is not counted as time spent high', () => {
    const d = new CpuDetector(opts);
    d.observe(sample(0, 95));
    expect(d.observe(sample(100, 95))).toEqual([]);
  });

  it('closes the alert when the container dies', () => {
    const d = new CpuDetector(opts);
    for (let s = 0; s <= 60; s += 10) d.observe(sample(s, 95));
    const out = d.observe({ kind: 'container-state', at: T0 + 61_000, origin: 'tailscale', state: 'die', containerId: 'x' });
    expect(out).toMatchObject([{ action: 'resolve' }]);
  });

  it('after restore with a firing alert it can still clear, and does not fire twice', () => {
    const d = new CpuDetector(opts);
    d.restore(undefined, [{ kind: 'cpu-sustained', subject: 'tailscale', fingerprint: 'cpu-sustained:tailscale' } as never]);
    expect([0, 10, 20, 30, 40, 50, 60, 70].flatMap((s) => d.observe(sample(s, 95)))).toEqual([]);
    const out = [80, 90, 100, 110, 120, 130, 140].flatMap((s) => d.observe(sample(s, 5)));
    expect(out).toMatchObject([{ action: 'resolve' }]);
  });

  it('says what the percentage is of: the CPU limit when set, one core otherwise', () => {
    const limited = new CpuDetector(opts);
    let fired: ReturnType<CpuDetector['observe']> = [];
    for (let s = 0; s <= 60; s += 10) fired = limited.observe({ ...sample(s, 96, 'headscale'), cpus: 1.5, limit: 1.5 });
    expect(fired[0]).toMatchObject({ action: 'fire', alert: { summary: expect.stringContaining('used 96.0 % of its 1.5-CPU limit (threshold 80 %)'), labels: { cpuLimit: '1.5' } } });
    const free = new CpuDetector(opts);
    for (let s = 0; s <= 60; s += 10) fired = free.observe(sample(s, 100.2));
    expect(fired[0]).toMatchObject({ action: 'fire', alert: { summary: expect.stringContaining('used 100.2 % of one core (no limit set)'), labels: { cpuLimit: 'none' } } });
    if (fired[0]?.action === 'fire') expect(fired[0].alert.evidence.at(-1)).toMatch(/100\.2 % of one core \(no limit set\)$/);
  });

  it('a firing alert carries the last 15 minutes as a sparkline, which the console line shows', () => {
    const history = new CpuHistory();
    const d = new CpuDetector({ ...opts, recent: (c, now) => history.window(c, now - 900_000, now) });
    const feed = (s: number, p: number) => {
      const f = sample(s, p);
      history.observe(f);
      return d.observe(f);
    };
    for (let s = -300; s < 0; s += 10) feed(s, 10);
    let fired: ReturnType<CpuDetector['observe']> = [];
    for (let s = 0; s <= 60; s += 10) fired = feed(s, 95);
    const draft = (fired[0] as unknown as { alert: Alert }).alert;
    expect(draft.labels.sparkline).toMatch(/^CPU 15 min ▂+.*█+ 10→95 % \(peak 95 %, threshold 80 %\)$/);
    const line = formatAlertLine({ ...draft, status: 'firing', startsAt: '', updatedAt: '2026-01-01T00:00:00Z', endsAt: null, occurrences: 1 } as Alert);
    expect(line).toContain(`· ${draft.labels.sparkline}`);
    expect(formatAlertLine({ ...draft, status: 'resolved', startsAt: '', updatedAt: '', endsAt: '2026-01-01T00:00:00Z', occurrences: 1 } as Alert)).not.toContain('CPU 15 min');
  });
});
