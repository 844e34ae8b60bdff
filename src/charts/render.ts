import { createRequire } from 'node:module';
import type { SKRSContext2D } from '@napi-rs/canvas';
import type { NamedSeries } from './series.js';

/**
 * CPU line charts as PNG, drawn with @napi-rs/canvas (Skia; its prebuilt binary ships inside the npm package).
 * The font comes from @fontsource/dejavu-sans so a slim container image without system fonts still renders
 * labels. Encoding runs on libuv's thread pool (`encode`), so a render never stalls the event loop for long.
 */

export interface CpuChartSpec {
  /** Bold first line, e.g. `CPU · tailscale-a`. */
  title: string;
  /** Smaller line under the title, e.g. `last 15 min · % of 0.5 CPU`. */
  subtitle?: string;
  series: NamedSeries[];
  /** Drawn as a dashed red line with its value. */
  threshold?: number;
  /** Marked with a vertical line and `crossed HH:MM:SS`. */
  crossedAt?: number;
  from: number;
  to: number;
  /** IANA zone for the time labels (default UTC); the zone's name is printed on the axis. */
  timeZone?: string;
  width?: number;
  height?: number;
}

export interface ChartImage {
  png: Buffer;
  width: number;
  height: number;
  /** File name for uploads, e.g. `cpu-tailscale-a.png`. */
  filename: string;
  /** Text alternative (Slack alt_txt, Discord description, logs). */
  altText: string;
}

const FAMILY = 'Headwatch Sans';
let fontState: 'unloaded' | 'loaded' | 'missing' = 'unloaded';
type Canvas = typeof import('@napi-rs/canvas');
let skia: Promise<Canvas> | undefined;

/** The native module loads on the first chart, not at start: most processes never draw one. */
function loadSkia(): Promise<Canvas> {
  skia ??= import('@napi-rs/canvas');
  return skia;
}

function ensureFont({ GlobalFonts }: Canvas): void {
  if (fontState !== 'unloaded') return;
  try {
    const require = createRequire(import.meta.url);
    const regular = GlobalFonts.registerFromPath(require.resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff2'), FAMILY);
    const bold = GlobalFonts.registerFromPath(require.resolve('@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff2'), FAMILY);
    fontState = regular && bold ? 'loaded' : 'missing';
  } catch {
    // Labels then fall back to whatever system font Skia finds; the chart itself still renders.
    fontState = 'missing';
  }
}

const COLORS = ['#2563eb', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#db2777'];
const THRESHOLD = '#dc2626';
const GRID = '#e5e7eb';
const TEXT = '#111827';
const MUTED = '#6b7280';

export async function renderCpuChart(spec: CpuChartSpec): Promise<ChartImage> {
  const lib = await loadSkia();
  ensureFont(lib);
  const { createCanvas } = lib;
  const width = spec.width ?? 800;
  const height = spec.height ?? 320;
  const canvas = createCanvas(width, height);
  const g = canvas.getContext('2d');
  const plot = { left: 56, right: width - 16, top: 58, bottom: height - 34 };

  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  g.fillStyle = TEXT;
  g.font = `bold 16px "${FAMILY}", sans-serif`;
  g.fillText(spec.title, 16, 24);
  if (spec.subtitle) {
    g.fillStyle = MUTED;
    g.font = `12px "${FAMILY}", sans-serif`;
    g.fillText(spec.subtitle, 16, 42);
  }

  const highest = Math.max(spec.threshold ?? 0, ...spec.series.flatMap((s) => s.points.map((p) => p.percent)));
  const yMax = niceCeiling(Math.max(100, highest * 1.05));
  const span = Math.max(1, spec.to - spec.from);
  const x = (t: number) => plot.left + ((t - spec.from) / span) * (plot.right - plot.left);
  const y = (v: number) => plot.bottom - (Math.max(0, v) / yMax) * (plot.bottom - plot.top);

  drawGrid(g, plot, yMax, y);
  drawTimeAxis(g, plot, spec.from, spec.to, x, spec.timeZone ?? 'UTC');

  if (spec.threshold !== undefined) {
    g.strokeStyle = THRESHOLD;
    g.lineWidth = 1.5;
    g.setLineDash([6, 4]);
    line(g, plot.left, y(spec.threshold), plot.right, y(spec.threshold));
    g.setLineDash([]);
    g.fillStyle = THRESHOLD;
    g.font = `11px "${FAMILY}", sans-serif`;
    // Left end: the samples that matter (the recent, high ones) are usually on the right.
    g.fillText(`threshold ${formatPercent(spec.threshold)}`, plot.left + 4, y(spec.threshold) - 5);
  }

  spec.series.forEach((s, i) => drawSeries(g, s, COLORS[i % COLORS.length]!, x, y));

  if (spec.crossedAt !== undefined && spec.crossedAt >= spec.from && spec.crossedAt <= spec.to) {
    const cx = x(spec.crossedAt);
    g.strokeStyle = THRESHOLD;
    g.lineWidth = 1;
    g.setLineDash([2, 3]);
    line(g, cx, plot.top, cx, plot.bottom);
    g.setLineDash([]);
    g.fillStyle = THRESHOLD;
    g.font = `bold 11px "${FAMILY}", sans-serif`;
    const label = `crossed ${clock(spec.crossedAt, spec.timeZone ?? 'UTC', true)}`;
    g.textAlign = cx > (plot.left + plot.right) / 2 ? 'right' : 'left';
    g.fillText(label, cx + (g.textAlign === 'right' ? -4 : 4), plot.top + 12);
    g.textAlign = 'left';
  }
  if (spec.series.length > 1) drawLegend(g, spec.series, width);
  if (spec.series.every((s) => s.points.length === 0)) {
    g.fillStyle = MUTED;
    g.font = `13px "${FAMILY}", sans-serif`;
    g.textAlign = 'center';
    g.fillText('no CPU samples in this period', (plot.left + plot.right) / 2, (plot.top + plot.bottom) / 2);
    g.textAlign = 'left';
  }

  const png = await canvas.encode('png');
  const first = spec.series[0]?.name ?? 'cpu';
  return {
    png,
    width,
    height,
    filename: `cpu-${first.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 60)}.png`,
    altText: altText(spec),
  };
}

function drawGrid(g: SKRSContext2D, plot: Plot, yMax: number, y: (v: number) => number): void {
  g.strokeStyle = GRID;
  g.lineWidth = 1;
  g.fillStyle = MUTED;
  g.font = `11px "${FAMILY}", sans-serif`;
  g.textAlign = 'right';
  const step = yMax / 4;
  for (let i = 0; i <= 4; i++) {
    const v = i * step;
    line(g, plot.left, y(v), plot.right, y(v));
    g.fillText(`${Math.round(v)} %`, plot.left - 6, y(v) + 4);
  }
  g.textAlign = 'left';
}

function drawTimeAxis(g: SKRSContext2D, plot: Plot, from: number, to: number, x: (t: number) => number, tz: string): void {
  const span = to - from;
  const step = [60_000, 300_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 10_800_000, 21_600_000].find((s) => span / s <= 8) ?? 43_200_000;
  g.fillStyle = MUTED;
  g.font = `11px "${FAMILY}", sans-serif`;
  g.textAlign = 'center';
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    g.strokeStyle = GRID;
    line(g, x(t), plot.bottom, x(t), plot.bottom + 4);
    g.fillText(clock(t, tz, false), x(t), plot.bottom + 17);
  }
  g.textAlign = 'right';
  g.fillText(tz, plot.right, plot.bottom + 30);
  g.textAlign = 'left';
}

function drawSeries(g: SKRSContext2D, s: NamedSeries, color: string, x: (t: number) => number, y: (v: number) => number): void {
  if (s.points.length === 0) return;
  g.strokeStyle = color;
  g.lineWidth = 2;
  g.lineJoin = 'round';
  g.beginPath();
  s.points.forEach((p, i) => (i === 0 ? g.moveTo(x(p.at), y(p.percent)) : g.lineTo(x(p.at), y(p.percent))));
  g.stroke();
  g.fillStyle = color;
  // Dots make single samples and gaps visible; skipped when they would merge into a thick line.
  if (s.points.length <= 120) {
    for (const p of s.points) {
      g.beginPath();
      g.arc(x(p.at), y(p.percent), 2.5, 0, Math.PI * 2);
      g.fill();
    }
  }
}

function drawLegend(g: SKRSContext2D, series: NamedSeries[], width: number): void {
  g.font = `11px "${FAMILY}", sans-serif`;
  let cx = width - 16;
  g.textAlign = 'right';
  for (let i = series.length - 1; i >= 0; i--) {
    const name = series[i]!.name.slice(0, 24);
    g.fillStyle = TEXT;
    g.fillText(name, cx, 42);
    cx -= g.measureText(name).width + 4;
    g.fillStyle = COLORS[i % COLORS.length]!;
    g.fillRect(cx - 10, 34, 10, 10);
    cx -= 22;
  }
  g.textAlign = 'left';
}

interface Plot {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function line(g: SKRSContext2D, x1: number, y1: number, x2: number, y2: number): void {
  g.beginPath();
  g.moveTo(x1, y1);
  g.lineTo(x2, y2);
  g.stroke();
}

function niceCeiling(v: number): number {
  for (const step of [100, 200, 400, 800, 1000, 2000, 4000, 10_000]) if (v <= step) return step;
  return Math.ceil(v / 10_000) * 10_000;
}

function formatPercent(v: number): string {
  return `${Number.isInteger(v) ? v : v.toFixed(1)} %`;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function clock(t: number, timeZone: string, seconds: boolean): string {
  const key = `${timeZone}|${seconds}`;
  let f = formatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), hourCycle: 'h23' });
    formatters.set(key, f);
  }
  return f.format(new Date(t));
}

function altText(spec: CpuChartSpec): string {
  const parts = spec.series.map((s) => {
    if (s.points.length === 0) return `${s.name}: no samples`;
    const values = s.points.map((p) => p.percent);
    return `${s.name}: ${values.length} samples, peak ${formatPercent(Math.max(...values))}, last ${formatPercent(values[values.length - 1]!)}`;
  });
  const threshold = spec.threshold !== undefined ? `; threshold ${formatPercent(spec.threshold)}` : '';
  const crossed = spec.crossedAt !== undefined ? `; crossed at ${new Date(spec.crossedAt).toISOString()}` : '';
  return `${spec.title}${spec.subtitle ? ` (${spec.subtitle})` : ''}: ${parts.join('; ')}${threshold}${crossed}`;
}

/** The chart as a message attachment (base64 PNG, so it stays JSON in the outbox). */
export function chartAttachment(chart: ChartImage, title: string): import('../messages/model.js').ImageAttachment {
  return { filename: chart.filename, title, altText: chart.altText, pngBase64: chart.png.toString('base64'), width: chart.width, height: chart.height };
}
