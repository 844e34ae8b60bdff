import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runStorm } from '../../bench/storm.js';

describe('storm: 10,000 nodes flapping for 5 simulated minutes', () => {
  it('reaches each channel as ONE digest that is edited at most once per group interval, with RATELIMIT and node counts', async () => {
    // tmpfs when available: this test is about what the channels receive, not about fsync speed
    const r = await runStorm({ nodes: 10_000, minutes: 5, groupWaitMs: 5_000, groupIntervalMs: 30_000, budget: 10, ...(existsSync('/dev/shm') ? { dbDir: '/dev/shm' } : {}) });
    expect(r.transitions).toBeGreaterThan(40_000);
    for (const ch of [r.slack, r.discord]) {
      expect(ch.posts).toBe(1); // the digest, nothing else in the channel
      expect(ch.maxPostsPerInterval).toBeLessThanOrEqual(1);
      expect(ch.maxEditsPerInterval).toBeLessThanOrEqual(1);
      expect(ch.minEditGapMs).toBeGreaterThanOrEqual(r.groupIntervalMs);
      expect(ch.edits).toBeGreaterThanOrEqual(5); // it kept updating through the storm
      expect(ch.edits).toBeLessThanOrEqual(Math.ceil((6 * 60_000) / r.groupIntervalMs));
      expect(ch.threadReplies).toBeGreaterThan(0); // details went to the digest's thread
      expect(ch.lastDigest).toContain(`${(r.firingAtEnd - 1).toLocaleString('en-US')} nodes flapping`);
      expect(ch.lastDigest).toMatch(/RATELIMIT ×12,\d{3}/);
    }
    // one-way senders still receive every state change, batched
    expect(r.consoleAlerts).toBeGreaterThanOrEqual(10_001);
    expect(r.peakRssMb - r.baselineRssMb).toBeLessThan(250);
  }, 120_000);
});
