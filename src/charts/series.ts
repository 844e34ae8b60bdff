/** One CPU sample of one container: percent of its CPU allowance at a time (ms since the epoch). */
export interface CpuPoint {
  at: number;
  percent: number;
}

export interface NamedSeries {
  name: string;
  points: CpuPoint[];
}

/**
 * When the latest run above `threshold` began: the first sample at or above it after the last sample below it.
 * Undefined when the newest sample is below the threshold or no sample ever reached it.
 */
export function lastCrossing(points: readonly CpuPoint[], threshold: number): number | undefined {
  let crossed: number | undefined;
  for (const p of points) {
    if (p.percent >= threshold) crossed ??= p.at;
    else crossed = undefined;
  }
  return crossed;
}

export function peakOf(points: readonly CpuPoint[]): CpuPoint | undefined {
  let best: CpuPoint | undefined;
  for (const p of points) if (!best || p.percent > best.percent) best = p;
  return best;
}
