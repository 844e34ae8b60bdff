import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Store } from '../../src/store/db.js';
import { ReportSlots } from '../../src/store/report-slots.js';
import { ReportScheduler } from '../../src/reports/schedule.js';
import type { DailyReport } from '../../src/reports/daily.js';

const logger = pino({ level: 'silent' });

/** One "headwatch process": its own Store connection on the shared file, its own scheduler. */
function process_(file: string, opts: { expression?: string; timeZone?: string; build?: (at: number) => Promise<DailyReport> } = {}) {
  const store = new Store(file);
  const sent: { slot: string; at: string }[] = [];
  const scheduler = new ReportScheduler({
    expression: opts.expression ?? '0 9 * * *',
    timeZone: opts.timeZone ?? 'UTC',
    slots: new ReportSlots(store),
    build: opts.build ?? (async (at) => report(at)),
    publish: (_r, slot) => sent.push({ slot: new Date(slot).toISOString(), at: new Date().toISOString() }),
    logger,
  });
  return {
    sent,
    scheduler,
    async stop() {
      await scheduler.stop();
      store.close();
    },
  };
}

function report(at: number): DailyReport {
  return { message: { fallback: 'r', tone: 'info', blocks: [] }, from: at - 86_400_000, to: at };
}

describe('daily report schedule (node-cron, injected clock)', () => {
  let file: string;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    file = join(mkdtempSync(join(tmpdir(), 'hw-report-')), 'hw.db');
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends once when the clock crosses the scheduled minute, and not again later that day', async () => {
    vi.setSystemTime(new Date('2026-03-02T08:59:50Z'));
    const p = process_(file);
    await p.scheduler.start();
    expect(p.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(9_000);
    expect(p.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(p.sent).toEqual([{ slot: '2026-03-02T09:00:00.000Z', at: expect.stringMatching(/^2026-03-02T09:00:0/) }]);
    await vi.advanceTimersByTimeAsync(3 * 3_600_000);
    expect(p.sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(21 * 3_600_000);
    expect(p.sent.map((s) => s.slot)).toEqual(['2026-03-02T09:00:00.000Z', '2026-03-03T09:00:00.000Z']);
    await p.stop();
  });

  it('follows HEADWATCH_REPORT_TZ: 09:00 in Berlin is 08:00 UTC in winter', async () => {
    vi.setSystemTime(new Date('2026-01-15T07:59:30Z'));
    const p = process_(file, { timeZone: 'Europe/Berlin' });
    await p.scheduler.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(p.sent.map((s) => s.slot)).toEqual(['2026-01-15T08:00:00.000Z']);
    await p.stop();
  });

  it('a restart at the scheduled minute does not send the slot a second time', async () => {
    vi.setSystemTime(new Date('2026-03-02T08:59:50Z'));
    const a = process_(file);
    await a.scheduler.start();
    await vi.advanceTimersByTimeAsync(11_000);
    expect(a.sent).toHaveLength(1);
    await a.stop();
    // Restarted 20 s into the scheduled minute: the catch-up sees the slot, finds it claimed.
    vi.setSystemTime(new Date('2026-03-02T09:00:20Z'));
    const b = process_(file);
    await b.scheduler.start();
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(b.sent).toEqual([]);
    await b.stop();
  });

  it('a process killed while building leaves the slot to the next start, which sends it once', async () => {
    vi.setSystemTime(new Date('2026-03-02T08:59:50Z'));
    let finishA: (r: DailyReport) => void = () => undefined;
    const a = process_(file, { build: () => new Promise((resolve) => (finishA = resolve)) });
    await a.scheduler.start();
    await vi.advanceTimersByTimeAsync(11_000);
    expect(a.sent).toEqual([]); // still building when it "dies"
    vi.setSystemTime(new Date('2026-03-02T09:00:40Z'));
    const b = process_(file);
    await b.scheduler.start();
    expect(b.sent.map((s) => s.slot)).toEqual(['2026-03-02T09:00:00.000Z']);
    // The old build finishing late finds the claim: nothing is sent twice.
    finishA(report(Date.now()));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(a.sent).toEqual([]);
    await a.stop();
    await b.stop();
  });

  it('a slot missed while headwatch was down is sent once at start within 6 h, never when older or before the first start', async () => {
    vi.setSystemTime(new Date('2026-03-02T08:00:00Z'));
    const first = process_(file);
    await first.scheduler.start();
    expect(first.sent).toEqual([]); // 09:00 yesterday was before headwatch ever ran this schedule
    await first.stop();

    vi.setSystemTime(new Date('2026-03-02T13:30:00Z'));
    const second = process_(file);
    await second.scheduler.start();
    expect(second.sent).toEqual([{ slot: '2026-03-02T09:00:00.000Z', at: '2026-03-02T13:30:00.000Z' }]);
    await second.stop();

    vi.setSystemTime(new Date('2026-03-02T13:35:00Z'));
    const third = process_(file);
    await third.scheduler.start();
    expect(third.sent).toEqual([]);
    await third.stop();

    // Down from before 09:00 on the 3rd until 15:30: 6.5 h late is too late, wait for tomorrow.
    vi.setSystemTime(new Date('2026-03-03T15:30:00Z'));
    const late = process_(file);
    await late.scheduler.start();
    expect(late.sent).toEqual([]);
    await late.stop();
  });

  it('a failed build is logged and retried by the next start within the window', async () => {
    vi.setSystemTime(new Date('2026-03-02T08:59:50Z'));
    const a = process_(file, { build: async () => Promise.reject(new Error('Headscale down')) });
    await a.scheduler.start();
    await vi.advanceTimersByTimeAsync(11_000);
    expect(a.sent).toEqual([]);
    await a.stop();
    vi.setSystemTime(new Date('2026-03-02T10:00:00Z'));
    const b = process_(file);
    await b.scheduler.start();
    expect(b.sent.map((s) => s.slot)).toEqual(['2026-03-02T09:00:00.000Z']);
    await b.stop();
  });
});
