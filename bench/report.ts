/**
 * How `npm run bench` reports: each figure next to its target and a verdict (met / MISSED), and no figure
 * claimed from a measurement the machine's own noise swamps. Pure functions, so the rules are tested.
 */

export type Verdict = 'met' | 'MISSED' | 'too noisy' | 'failed' | '—';

export interface Row {
  name: string;
  figure: string;
  /** Human text of the target, e.g. "p99 ≤ 250 ms"; empty when the figure is informational. */
  target: string;
  verdict: Verdict;
}

/** A figure with a numeric target: `value` compared with `limit` (`≤` or `≥`). */
export function checked(name: string, figure: string, value: number, op: '≤' | '≥', limit: number, target: string): Row {
  if (!Number.isFinite(value)) return { name, figure, target, verdict: 'failed' };
  const met = op === '≤' ? value <= limit : value >= limit;
  return { name, figure, target, verdict: met ? 'met' : 'MISSED' };
}

export function info(name: string, figure: string): Row {
  return { name, figure, target: '', verdict: '—' };
}

/**
 * A CPU overhead is a difference of two busy figures. When the baseline alone varied by more than the
 * difference (or the difference is negative, which no real overhead is), the machine is too noisy to say
 * anything: the row says so, with the spread, instead of a number that looks like a result.
 */
export function overheadRow(name: string, o: { overheadPct: number; noisePct: number; limitPct: number; detail: string; baselinePct?: number; capacityPct?: number }): Row {
  const target = `≤ ${o.limitPct} % of one core`;
  const fmt = (n: number) => n.toFixed(2);
  // Every core already busy without headwatch: any extra work only queues, so the difference says nothing.
  if (o.baselinePct !== undefined && o.capacityPct !== undefined && o.baselinePct >= o.capacityPct * 0.95) {
    return {
      name,
      figure: `machine too busy to measure: the baseline already used ${fmt(o.baselinePct)} % of ${fmt(o.capacityPct)} % (every core busy); rerun on a quieter machine (${o.detail})`,
      target,
      verdict: 'too noisy',
    };
  }
  if (o.overheadPct < 0 || Math.abs(o.overheadPct) <= o.noisePct) {
    return {
      name,
      figure: `machine too noisy: baseline varied by ${fmt(o.noisePct)} % of one core, more than the overhead measured (${fmt(o.overheadPct)} %); rerun on a quieter machine (${o.detail})`,
      target,
      verdict: 'too noisy',
    };
  }
  return checked(name, `overhead ${fmt(o.overheadPct)} % of one core (baseline noise ±${fmt(o.noisePct / 2)} %; ${o.detail})`, o.overheadPct, '≤', o.limitPct, target);
}

/** max − min of a series: how much a quiet measurement varied by itself. */
export function spread(xs: number[]): number {
  return xs.length < 2 ? 0 : Math.max(...xs) - Math.min(...xs);
}

export function table(rows: Row[]): string {
  const w0 = Math.max('benchmark'.length, ...rows.map((r) => r.name.length));
  const w1 = Math.max('figure'.length, ...rows.map((r) => r.figure.length));
  const w2 = Math.max('target'.length, ...rows.map((r) => r.target.length));
  const line = (a: string, b: string, c: string, d: string) => `${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padEnd(w2)}  ${d}`.trimEnd();
  const met = rows.filter((r) => r.verdict === 'met').length;
  const missed = rows.filter((r) => r.verdict === 'MISSED').length;
  const unmeasured = rows.filter((r) => r.verdict === 'too noisy' || r.verdict === 'failed').length;
  return [
    line('benchmark', 'figure', 'target', 'verdict'),
    ...rows.map((r) => line(r.name, r.figure, r.target, r.verdict)),
    '',
    `${met} met, ${missed} missed, ${unmeasured} not measured, of ${rows.filter((r) => r.verdict !== '—').length} targets`,
  ].join('\n');
}
