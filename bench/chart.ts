import { renderCpuChart } from '../src/charts/render.js';
import { lastCrossing, type CpuPoint } from '../src/charts/series.js';

/** Render time (including PNG encoding) and size of the 15-minute CPU alert chart, over `n` renders. */
export async function benchChart(n = 200): Promise<{ p50Ms: number; p99Ms: number; bytes: number; width: number; height: number; n: number }> {
  const to = Date.now();
  const from = to - 15 * 60_000;
  const points: CpuPoint[] = Array.from({ length: 90 }, (_, i) => ({ at: from + i * 10_000, percent: 40 + 50 * Math.sin(i / 9) ** 2 + (i % 3) }));
  const spec = { title: 'CPU · tailscale-a', subtitle: 'last 15 min · % of 0.5 CPU', series: [{ name: 'tailscale-a', points }], threshold: 80, crossedAt: lastCrossing(points, 80), from, to };
  await renderCpuChart(spec); // first render loads the font and warms Skia
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const c = await renderCpuChart(spec);
    times.push(performance.now() - t0);
    bytes = c.png.length;
  }
  times.sort((a, b) => a - b);
  return { p50Ms: times[Math.floor(n * 0.5)]!, p99Ms: times[Math.min(n - 1, Math.floor(n * 0.99))]!, bytes, width: 800, height: 320, n };
}
