import type { Store } from './db.js';

export interface CpuMinute {
  container: string;
  /** Start of the minute, ms since the epoch. */
  minute: number;
  peak: number;
  mean: number;
  samples: number;
  cpus: number;
}

export interface CpuPeak {
  container: string;
  peak: number;
  /** Minute in which the peak was reached. */
  at: number;
  mean: number;
  cpus: number;
}

/**
 * Per-minute CPU figures of every watched container (peak and mean of the samples in that minute), kept
 * about a week: the daily report's peaks and 24 h charts, and the start of a 15-minute alert chart right
 * after a restart, when the in-memory samples are gone. One row per container and minute, written in
 * batches, so a 10 s sample interval costs one write a minute per container, not six.
 */
export class CpuMinutes {
  private readonly stmts;

  constructor(private readonly store: Store) {
    const db = store.db;
    this.stmts = {
      // A minute written twice (flush at stop, then the same minute after a quick restart) merges.
      upsert: db.prepare(
        `INSERT INTO cpu_minutes (container, minute, peak, mean, samples, cpus) VALUES (@container, @minute, @peak, @mean, @samples, @cpus)
         ON CONFLICT(container, minute) DO UPDATE SET
           mean = (cpu_minutes.mean * cpu_minutes.samples + excluded.mean * excluded.samples) / (cpu_minutes.samples + excluded.samples),
           peak = CASE WHEN excluded.peak > cpu_minutes.peak THEN excluded.peak ELSE cpu_minutes.peak END,
           samples = cpu_minutes.samples + excluded.samples,
           cpus = excluded.cpus`,
      ),
      range: db.prepare(`SELECT * FROM cpu_minutes WHERE container = ? AND minute >= ? AND minute < ? ORDER BY minute`),
      peaks: db.prepare(
        `SELECT m.container, m.peak, m.minute AS at, a.mean, m.cpus FROM cpu_minutes m
         JOIN (SELECT container, MAX(peak) AS peak, SUM(mean * samples) / SUM(samples) AS mean FROM cpu_minutes
               WHERE minute >= @from AND minute < @to GROUP BY container) a
           ON a.container = m.container AND a.peak = m.peak
         WHERE m.minute >= @from AND m.minute < @to
         GROUP BY m.container ORDER BY m.peak DESC`,
      ),
      prune: db.prepare(`DELETE FROM cpu_minutes WHERE minute < ?`),
    };
  }

  save(rows: readonly CpuMinute[]): void {
    if (rows.length === 0) return;
    this.store.db.transaction(() => {
      for (const r of rows) this.stmts.upsert.run(r);
    })();
  }

  range(container: string, from: number, to: number): CpuMinute[] {
    return this.stmts.range.all(container, from, to) as CpuMinute[];
  }

  /** Highest minute peak per container in [from, to), highest first. */
  peaks(from: number, to: number): CpuPeak[] {
    return this.stmts.peaks.all({ from, to }) as CpuPeak[];
  }

  prune(before: number): number {
    return this.stmts.prune.run(before).changes;
  }
}
