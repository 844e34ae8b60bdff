import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, POSTGRES_URL, freshDatabase } from '../support/postgres.js';
import { Store } from '../../src/store/db.js';
import { LeaseRepository } from '../../src/store/lease.js';
import { LogCursors } from '../../src/store/log-cursors.js';

const T0 = Date.parse('2026-12-02T04:00:00Z');
// A real Docker stamp has nine fraction digits: more than a JavaScript number holds exactly.
const NS = 1_795_681_174_123_456_789n;

let open: Store[] = [];
let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const s of open) s.close();
  for (const c of cleanups) c();
  open = [];
  cleanups = [];
});

describe.each(BACKENDS)('log cursors on $name', (backend) => {
  async function fresh(): Promise<Store> {
    const o = await backend.open();
    open.push(o.store);
    cleanups.push(o.cleanup);
    return o.store;
  }

  it('keeps the nanosecond position and the count at it per host and container, and a recreated container replaces the row', async () => {
    const cursors = new LogCursors(await fresh());
    expect(cursors.position('local', 'headscale')).toBeUndefined();
    expect(
      cursors.save(
        [
          { host: 'local', container: 'headscale', containerId: 'aaa', ns: NS, seenAtNs: 3 },
          { host: 'nas', container: 'headscale', containerId: 'bbb', ns: NS - 1n, seenAtNs: 1 },
        ],
        T0,
      ),
    ).toBe(true);
    expect(cursors.position('local', 'headscale')).toEqual({ host: 'local', container: 'headscale', containerId: 'aaa', ns: NS, seenAtNs: 3, epoch: 0, updatedAt: T0 });
    expect(cursors.position('nas', 'headscale')).toMatchObject({ containerId: 'bbb', ns: NS - 1n, seenAtNs: 1 });
    cursors.save([{ host: 'local', container: 'headscale', containerId: 'ccc', ns: NS + 5n, seenAtNs: 1 }], T0 + 1000);
    expect(cursors.position('local', 'headscale')).toMatchObject({ containerId: 'ccc', ns: NS + 5n, seenAtNs: 1, updatedAt: T0 + 1000 });
    expect(cursors.all().map((c) => `${c.host}/${c.container}`)).toEqual(['local/headscale', 'nas/headscale']);
  });

  it('refuses a position before the epoch', async () => {
    const cursors = new LogCursors(await fresh());
    expect(() => cursors.save([{ host: 'local', container: 'x', containerId: 'a', ns: -1n, seenAtNs: 0 }], T0)).toThrow(/before the epoch/);
    expect(cursors.position('local', 'x')).toBeUndefined();
  });
});

(POSTGRES_URL ? describe : describe.skip)('log cursors under the leader lease (PostgreSQL)', () => {
  it('only the current epoch advances a cursor: a deposed leader writes nothing, and a batch is written whole or not at all', async () => {
    const url = await freshDatabase();
    const a = new Store(url);
    const b = new Store(url);
    open.push(a, b);
    const leaseA = new LeaseRepository(a).acquire('replica-a', 300)!;
    a.fence = { holder: 'replica-a', epoch: leaseA.epoch };
    const cursorsA = new LogCursors(a);
    expect(cursorsA.save([{ host: 'local', container: 'headscale', containerId: 'aaa', ns: NS, seenAtNs: 1 }], T0)).toBe(true);
    expect(cursorsA.position('local', 'headscale')).toMatchObject({ ns: NS, epoch: leaseA.epoch });

    await new Promise((r) => setTimeout(r, 400)); // A's lease runs out (A paused, say); B takes over
    const leaseB = new LeaseRepository(b).acquire('replica-b', 10_000)!;
    expect(leaseB.epoch).toBe(leaseA.epoch + 1);
    b.fence = { holder: 'replica-b', epoch: leaseB.epoch };
    const cursorsB = new LogCursors(b);
    expect(cursorsB.save([{ host: 'local', container: 'headscale', containerId: 'aaa', ns: NS + 10n, seenAtNs: 2 }], T0 + 1000)).toBe(true);

    // A wakes and flushes what it had read: refused.
    const stale = [
      { host: 'local', container: 'tailscale-1', containerId: 'ttt', ns: NS + 99n, seenAtNs: 1 },
      { host: 'local', container: 'headscale', containerId: 'aaa', ns: NS + 99n, seenAtNs: 1 },
    ];
    expect(cursorsA.save(stale, T0 + 2000)).toBe(false);
    expect(cursorsB.position('local', 'headscale')).toMatchObject({ ns: NS + 10n, seenAtNs: 2, epoch: leaseB.epoch, updatedAt: T0 + 1000 });
    expect(cursorsB.position('local', 'tailscale-1')).toBeUndefined();

    // A row a later epoch wrote is never overwritten by an earlier one, even one whose lease check passes.
    b.db.prepare(`UPDATE log_cursors SET epoch = ? WHERE container = 'headscale'`).run(leaseB.epoch + 1);
    const mixed = [
      { host: 'local', container: 'tailscale-1', containerId: 'ttt', ns: NS + 50n, seenAtNs: 1 },
      { host: 'local', container: 'headscale', containerId: 'aaa', ns: NS + 50n, seenAtNs: 1 },
    ];
    expect(cursorsB.save(mixed, T0 + 3000)).toBe(false);
    expect(cursorsB.position('local', 'headscale')).toMatchObject({ ns: NS + 10n, epoch: leaseB.epoch + 1 });
    expect(cursorsB.position('local', 'tailscale-1')).toBeUndefined(); // the batch is one transaction
  });
});
