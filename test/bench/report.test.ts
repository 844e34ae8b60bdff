import { describe, expect, it } from 'vitest';
import { checked, overheadRow, spread, table } from '../../bench/report.js';

describe('bench report', () => {
  it('marks each figure met or MISSED against its target', () => {
    expect(checked('latency', 'p99 283 ms', 283, '≤', 250, 'p99 ≤ 250 ms').verdict).toBe('MISSED');
    expect(checked('latency', 'p99 120 ms', 120, '≤', 250, 'p99 ≤ 250 ms').verdict).toBe('met');
    expect(checked('ratio', '31 %', 0.31, '≥', 0.25, '≥ 25 %').verdict).toBe('met');
    expect(checked('x', 'NaN', NaN, '≤', 1, '≤ 1').verdict).toBe('failed');
  });

  it('refuses to report an overhead inside the baseline noise, or a negative one', () => {
    const noisy = overheadRow('idle CPU', { overheadPct: -9.06, noisePct: 12.4, limitPct: 1, detail: '50 containers' });
    expect(noisy.verdict).toBe('too noisy');
    expect(noisy.figure).toMatch(/^machine too noisy: baseline varied by 12\.40 % of one core/);
    expect(overheadRow('idle CPU', { overheadPct: 0.4, noisePct: 0.9, limitPct: 1, detail: '' }).verdict).toBe('too noisy');
    expect(overheadRow('idle CPU', { overheadPct: -1.5, noisePct: 0.2, limitPct: 1, detail: '' }).verdict).toBe('too noisy');
    const clean = overheadRow('idle CPU', { overheadPct: 0.45, noisePct: 0.1, limitPct: 1, detail: '' });
    expect(clean).toMatchObject({ verdict: 'met', figure: expect.stringMatching(/^overhead 0\.45 % of one core/) });
    expect(overheadRow('idle CPU', { overheadPct: 2.3, noisePct: 0.1, limitPct: 1, detail: '' }).verdict).toBe('MISSED');
    expect(spread([3, 5.5, 4])).toBe(2.5);
    const saturated = overheadRow('idle CPU', { overheadPct: 0.03, noisePct: 0.0, limitPct: 1, detail: '', baselinePct: 199.97, capacityPct: 200 });
    expect(saturated).toMatchObject({ verdict: 'too noisy', figure: expect.stringMatching(/^machine too busy to measure: the baseline already used 199\.97 % of 200\.00 %/) });
  });

  it('prints a verdict column and a count of targets met and missed', () => {
    const out = table([checked('latency', 'p99 283 ms', 283, '≤', 250, 'p99 ≤ 250 ms'), { name: 'rss', figure: '40 MB', target: '', verdict: '—' }]);
    expect(out.split('\n')[0]).toMatch(/^benchmark +figure +target +verdict$/);
    expect(out).toMatch(/latency +p99 283 ms +p99 ≤ 250 ms +MISSED/);
    expect(out).toMatch(/0 met, 1 missed, 0 not measured, of 1 targets$/);
  });
});
