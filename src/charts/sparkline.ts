import type { CpuPoint } from './series.js';

const BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * Unicode block sparkline (`▁▂▃▅▇`) for text destinations (console, webhook) that cannot show a picture.
 * Values are bucketed into at most `width` columns (max per column: a short spike stays visible) and scaled
 * from 0 to max(100, highest value), so a flat 20 % line reads low rather than as a full-height bar.
 */
export function sparkline(values: readonly number[], width = 30, ceiling?: number): string {
  if (values.length === 0) return '';
  const cols = bucketMax(values, width);
  const top = ceiling ?? Math.max(100, ...cols);
  return cols.map((v) => BARS[Math.max(0, Math.min(BARS.length - 1, Math.round((v / top) * (BARS.length - 1))))]).join('');
}

function bucketMax(values: readonly number[], width: number): number[] {
  if (values.length <= width) return [...values];
  const out: number[] = [];
  for (let i = 0; i < width; i++) {
    const from = Math.floor((i * values.length) / width);
    const to = Math.max(from + 1, Math.floor(((i + 1) * values.length) / width));
    let m = -Infinity;
    for (let j = from; j < to; j++) m = Math.max(m, values[j]!);
    out.push(m);
  }
  return out;
}

/** One line for a CPU alert: `CPU 15 min ▁▂▃▅▇█ 12→97 % (peak 98 %, threshold 80 %)`. */
export function cpuSparklineText(points: readonly CpuPoint[], threshold: number, spanLabel = '15 min'): string | undefined {
  if (points.length === 0) return undefined;
  const values = points.map((p) => p.percent);
  const peak = Math.max(...values);
  const first = values[0]!;
  const last = values[values.length - 1]!;
  return `CPU ${spanLabel} ${sparkline(values)} ${fmt(first)}→${fmt(last)} % (peak ${fmt(peak)} %, threshold ${fmt(threshold)} %)`;
}

function fmt(n: number): string {
  return n >= 10 ? n.toFixed(0) : n.toFixed(1);
}
