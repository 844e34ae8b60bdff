import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { POSTGRES_URL, freshDatabase } from '../support/postgres.js';
import { Store } from '../../src/store/db.js';
import { Outbox } from '../../src/store/outbox.js';
import { LeaseRepository } from '../../src/store/lease.js';
import { LeaderElection } from '../../src/replicas/leader.js';

const quiet = pino({ level: 'silent' });
let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.reverse()) c();
  cleanup = [];
});

function replica(url: string, ttlMs = 3000, renewMs = 500) {
  const store = new Store(url);
  const events: string[] = [];
  const election = new LeaderElection({
    store,
    logger: quiet,
    ttlMs,
    renewMs,
    onElected: () => void events.push('elected'),
    onDeposed: (why) => void events.push(`deposed: ${why}`),
  });
  store.fence = { holder: election.holder, epoch: 0 };
  cleanup.push(() => {
    election.stop();
    store.close();
  });
  return { store, election, events, outbox: new Outbox(store) };
}

async function until(what: string, fn: () => boolean, ms = 15_000): Promise<number> {
  const t0 = Date.now();
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return Date.now() - t0;
}

(POSTGRES_URL ? describe : describe.skip)('leader lease on PostgreSQL', () => {
  it('elects one leader; when it stops renewing, another takes over within TTL + renew with a higher epoch, and the old one is fenced', async () => {
    const url = await freshDatabase();
    const a = replica(url);
    a.election.start();
    await until('a leader', () => a.election.currentRole === 'leader');
    const b = replica(url);
    b.election.start();
    await new Promise((r) => setTimeout(r, 1200));
    expect(b.election.currentRole).toBe('standby');
    const id = a.outbox.enqueue('webhook', 'post', 'k', {}, Date.now());
    const id2 = a.outbox.enqueue('webhook', 'post', 'k2', {}, Date.now());
    expect(b.outbox.beginAttempt(id)).toBe(false); // a standby's claim never succeeds
    expect(a.outbox.beginAttempt(id)).toBe(true);
    const epochA = a.election.currentEpoch;
    // A dies without a word (its renewals stop; it never gives the lease back).
    (a.election as unknown as { stopped: boolean }).stopped = true;
    const took = await until('b to take over', () => b.election.currentRole === 'leader');
    expect(took).toBeLessThan(3000 + 500 + 1500);
    expect(b.election.currentEpoch).toBe(epochA + 1);
    // Its own clock tells it first: past its deadline it writes nothing at all.
    expect(() => a.outbox.beginAttempt(id2)).toThrow(/may no longer hold the leader lease/);
    // The refused statement deposes it there and then (whichever part tried to write after a pause), so the
    // process leaves as a deposed leader rather than failing in that part.
    expect(a.events).toEqual(['elected', 'deposed: the lease ran out before it could be renewed (process paused or database slow)']);
    expect(() => a.store.db.prepare('SELECT 1').get()).toThrow(/lost the leader lease/);
    // And were that check skipped, the database refuses the claim: the old epoch's fence finds nothing.
    a.store.setGuard(undefined);
    expect(a.outbox.beginAttempt(id2)).toBe(false);
    expect(b.outbox.beginAttempt(id2)).toBe(true);
    expect(b.events).toEqual(['elected']);
  });

  it('a leader that cannot renew in time deposes itself before its lease runs out on the server', async () => {
    const url = await freshDatabase();
    const a = replica(url);
    a.election.start();
    await until('a leader', () => a.election.currentRole === 'leader');
    // Another holder takes the row (as after an expiry a pause hid from us): the next renewal finds it gone.
    a.store.db.prepare(`UPDATE leader_lease SET holder = 'someone-else', epoch = epoch + 1`).run();
    await until('a deposed', () => a.events.some((e) => e.startsWith('deposed')), 3000);
    expect(a.events).toEqual(['elected', 'deposed: another replica holds the lease now']);
    expect(a.election.holds()).toBe(false);
  });

  it('a clean stop gives the lease back: the standby takes over at its next poll, not after the TTL', async () => {
    const url = await freshDatabase();
    const a = replica(url, 10_000, 500);
    a.election.start();
    await until('a leader', () => a.election.currentRole === 'leader');
    const b = replica(url, 10_000, 500);
    b.election.start();
    await new Promise((r) => setTimeout(r, 700));
    a.election.stop();
    const took = await until('b to take over', () => b.election.currentRole === 'leader');
    expect(took).toBeLessThan(2500);
    expect(new LeaseRepository(b.store).current()!.holder).toBe(b.election.holder);
  });
});
