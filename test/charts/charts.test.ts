import { describe, expect, it } from 'vitest';
import { renderCpuChart } from '../../src/charts/render.js';
import { lastCrossing, type CpuPoint } from '../../src/charts/series.js';
import { cpuSparklineText, sparkline } from '../../src/charts/sparkline.js';
import { pngSize } from '../support/png.js';

const T0 = Date.parse('2026-03-01T18:24:00Z');

function climb(): CpuPoint[] {
  // 15 minutes of 10 s samples: idle, then a climb past 80 % at 18:31:00.
  return Array.from({ length: 90 }, (_, i) => ({ at: T0 + i * 10_000, percent: i < 42 ? 12 + (i % 5) : 85 + (i % 7) }));
}

describe('CPU chart', () => {
  it('renders a PNG of the stated size with the threshold crossing in its text alternative', async () => {
    const points = climb();
    const crossedAt = lastCrossing(points, 80);
    expect(crossedAt).toBe(T0 + 42 * 10_000);
    const chart = await renderCpuChart({
      title: 'CPU · tailscale-a',
      subtitle: 'last 15 min · % of 0.5 CPU',
      series: [{ name: 'tailscale-a', points }],
      threshold: 80,
      crossedAt,
      from: T0,
      to: T0 + 15 * 60_000,
    });
    expect(chart.png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(pngSize(chart.png)).toEqual({ width: 800, height: 320 });
    expect(chart.filename).toBe('cpu-tailscale-a.png');
    expect(chart.altText).toContain('peak 91 %');
    expect(chart.altText).toContain('threshold 80 %');
    expect(chart.altText).toContain('2026-03-01T18:31:00.000Z');
    // A real picture, not an empty canvas: a blank 800×320 PNG compresses to well under 2 KB.
    expect(chart.png.length).toBeGreaterThan(8_000);
  });

  it('draws several series and an empty period without failing', async () => {
    const a = await renderCpuChart({
      title: 'CPU peaks · last 24 h',
      series: [
        { name: 'headscale', points: climb() },
        { name: 'tailscale-b', points: [] },
      ],
      threshold: 80,
      from: T0,
      to: T0 + 86_400_000,
      timeZone: 'Europe/Berlin',
      width: 900,
      height: 360,
    });
    expect(pngSize(a.png)).toEqual({ width: 900, height: 360 });
    expect(a.altText).toContain('tailscale-b: no samples');
    const empty = await renderCpuChart({ title: 'CPU · idle', series: [{ name: 'idle', points: [] }], from: T0, to: T0 + 60_000 });
    expect(pngSize(empty.png)).toEqual({ width: 800, height: 320 });
  });
});

describe('sparkline', () => {
  it('scales against 100 % so a low flat line stays low and spikes stay visible', () => {
    expect(sparkline([0, 50, 100])).toBe('▁▅█');
    expect(sparkline([20, 20, 20])).toBe('▂▂▂');
    const many = Array.from({ length: 300 }, (_, i) => (i === 150 ? 100 : 5));
    const line = sparkline(many, 30);
    expect([...line]).toHaveLength(30);
    expect(line).toContain('█');
  });

  it('summarises a CPU window in one line for console and webhook', () => {
    expect(cpuSparklineText(climb(), 80)).toMatch(/^CPU 15 min [▁▂▃▄▅▆▇█]{30} 12→90 % \(peak 91 %, threshold 80 %\)$/);
    expect(cpuSparklineText([], 80)).toBeUndefined();
  });

  it('finds no crossing while the newest sample is below the threshold', () => {
    expect(lastCrossing([{ at: 1, percent: 90 }, { at: 2, percent: 50 }], 80)).toBeUndefined();
    expect(lastCrossing([{ at: 1, percent: 90 }, { at: 2, percent: 50 }, { at: 3, percent: 81 }, { at: 4, percent: 95 }], 80)).toBe(3);
  });
});
