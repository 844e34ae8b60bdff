import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, POSTGRES_URL, freshDatabase } from '../support/postgres.js';
import { Store } from '../../src/store/db.js';
import { AuditLog, GENESIS_HASH } from '../../src/store/audit.js';
import { AlertRepository } from '../../src/store/alerts.js';
import { Silences } from '../../src/store/silences.js';
import { Outbox } from '../../src/store/outbox.js';
import { ApprovalRepository } from '../../src/store/approvals.js';
import { ReportSlots } from '../../src/store/report-slots.js';
import { CpuMinutes } from '../../src/store/cpu-minutes.js';
import { ActivityCounts } from '../../src/store/activity.js';
import { IncidentRepository } from '../../src/store/incidents.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import type { Alert } from '../../src/alerts/model.js';

const T0 = Date.parse('2026-12-01T10:00:00Z');
let open: { store: Store; cleanup: () => void }[] = [];
afterEach(() => {
  for (const o of open) {
    o.store.close();
    o.cleanup();
  }
  open = [];
});

function alert(fingerprint: string, kind: Alert['kind'], status: Alert['status'] = 'firing'): Alert {
  return {
    fingerprint,
    kind,
    severity: 'warning',
    subject: fingerprint.split(':')[1] ?? fingerprint,
    summary: `${kind} on ${fingerprint}`,
    evidence: ['line 1', 'ünïcødé ✓'],
    labels: { node: 'n1' },
    status,
    startsAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0 + 1000).toISOString(),
    endsAt: null,
    occurrences: 2,
  };
}

describe.each(BACKENDS)('store on $name', (backend) => {
  async function fresh(): Promise<Store> {
    const o = await backend.open();
    open.push(o);
    return o.store;
  }

  it('applies every migration once and records them', async () => {
    const store = await fresh();
    const ids = (store.db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as { id: string }[]).map((r) => r.id);
    expect(ids).toEqual(MIGRATIONS.map((m) => m.id).sort());
  });

  it('alerts: upsert, lookups by kinds and hash, numbers come back as numbers', async () => {
    const alerts = new AlertRepository(await fresh());
    alerts.save(alert('flapping:n1', 'node-flapping'));
    alerts.save(alert('cpu:ts', 'cpu-sustained'));
    alerts.save({ ...alert('cpu:ts', 'cpu-sustained'), occurrences: 3, summary: 'changed' });
    alerts.save(alert('old:x', 'node-flapping', 'resolved'));
    expect(alerts.get('cpu:ts')).toMatchObject({ summary: 'changed', occurrences: 3, evidence: ['line 1', 'ünïcødé ✓'], labels: { node: 'n1' } });
    expect(alerts.firingOfKinds(['cpu-sustained', 'node-flapping']).map((a) => a.fingerprint).sort()).toEqual(['cpu:ts', 'flapping:n1']);
    expect(alerts.firingOfKinds([])).toEqual([]);
    expect(alerts.isAnyFiring('cpu-sustained')).toBe(true);
    const counts = alerts.countByKindStatus();
    expect(counts.find((c) => c.kind === 'node-flapping' && c.status === 'firing')!.n).toBe(1);
    expect(typeof counts[0]!.n).toBe('number');
    alerts.saveDetectorState('cpu', { n: 1 }, new Date(T0));
    expect(alerts.loadDetectorState('cpu')).toEqual({ n: 1 });
  });

  it('silences: created, listed in order, expired by a unique prefix', async () => {
    let now = T0;
    const silences = new Silences(await fresh(), () => now);
    const a = silences.create({ matcher: 'kind', value: 'cpu-sustained', createdBy: 'slack:U1', durationMs: 3_600_000 });
    silences.create({ matcher: 'subject', value: 'nas', createdBy: 'slack:U1', durationMs: 3_600_000, reason: 'maintenance' });
    expect(silences.list().map((s) => s.value)).toEqual(['cpu-sustained', 'nas']);
    expect(silences.matching({ fingerprint: 'x', kind: 'cpu-sustained', subject: 'y' })!.id).toBe(a.id);
    expect(silences.expire(a.id.slice(0, 8))!.expiredAt).toBe(now);
    now += 1;
    expect(silences.list().map((s) => s.value)).toEqual(['nas']);
  });

  it('outbox: ids in order per lane, heads, attempts and retries', async () => {
    const outbox = new Outbox(await fresh());
    const a = outbox.enqueue('slack:C1', 'post', 'k1', { text: 'one' }, T0);
    const b = outbox.enqueue('slack:C1', 'post', 'k2', { text: 'two' }, T0);
    const c = outbox.enqueue('discord:9', 'post', 'k1', { text: 'three' }, T0);
    expect(b).toBeGreaterThan(a);
    expect(outbox.heads().map((r) => r.id).sort((x, y) => x - y)).toEqual([a, c]);
    outbox.beginAttempt(a);
    outbox.scheduleRetry(a, T0 + 5000, 'HTTP 500', true);
    expect(outbox.get(a)).toMatchObject({ attempts: 1, nextAt: T0 + 5000, maybeDelivered: true });
    outbox.markSent(a, T0 + 6000, 'ts-1');
    expect(outbox.heads().map((r) => r.id).sort((x, y) => x - y)).toEqual([b, c]);
    expect(outbox.pendingByLane().get('slack:C1')).toBe(1);
    expect(outbox.postsSince('slack:C1', T0)).toBe(2);
  });

  it('approvals: n-of-m votes, duplicates refused, the run claim is taken once', async () => {
    const approvals = new ApprovalRepository(await fresh());
    const req = approvals.create({
      nonce: 'n1', command: 'delete-node', args: { id: 3 }, summary: 'delete node 3', requester: { platform: 'slack', userId: 'UOP' },
      channelId: 'C1', required: 2, createdAt: T0, expiresAt: T0 + 600_000,
    });
    expect(approvals.vote(req.id, 'slack:UAP', 'ap', 'approve', T0 + 1).kind).toBe('recorded');
    expect(approvals.vote(req.id, 'slack:UAP', 'ap', 'approve', T0 + 2).kind).toBe('duplicate');
    expect(approvals.vote(req.id, 'slack:UAP2', 'ap2', 'approve', T0 + 3).kind).toBe('approved');
    expect(approvals.move(req.id, 'approved', 'running', T0 + 4)).toBe(true);
    expect(approvals.move(req.id, 'approved', 'running', T0 + 5)).toBe(false);
    expect(approvals.get(req.id)).toMatchObject({ state: 'running', decidedAt: T0 + 3, decidedBy: 'slack:UAP2', args: { id: 3 } });
  });

  it('report slots, CPU minutes and activity counts: upserts add up', async () => {
    const store = await fresh();
    const slots = new ReportSlots(store);
    expect(slots.claim('daily', T0, T0)).toBe(true);
    expect(slots.claim('daily', T0, T0 + 1)).toBe(false);
    expect(slots.markStarted('daily', T0)).toBe(T0);
    expect(slots.markStarted('daily', T0 + 99)).toBe(T0);
    const cpu = new CpuMinutes(store);
    cpu.save([{ container: 'ts', minute: T0, peak: 40.5, mean: 20, samples: 3, cpus: 2 }]);
    cpu.save([{ container: 'ts', minute: T0, peak: 90.25, mean: 60, samples: 1, cpus: 2 }]);
    expect(cpu.range('ts', T0, T0 + 60_000)).toEqual([{ container: 'ts', minute: T0, peak: 90.25, mean: 30, samples: 4, cpus: 2 }]);
    const activity = new ActivityCounts(store);
    activity.add([
      { kind: 'container-death', subject: 'ts', label: 'ts', hour: T0, n: 2 },
      { kind: 'container-death', subject: 'ts', label: 'ts', hour: T0, n: 3 },
      { kind: 'container-death', subject: 'hs', label: 'hs', hour: T0, n: 1 },
    ]);
    expect(activity.top('container-death', T0, T0 + 3_600_000, 5)).toEqual([
      { subject: 'ts', label: 'ts', n: 5 },
      { subject: 'hs', label: 'hs', n: 1 },
    ]);
    expect(activity.total('container-death', T0, T0 + 3_600_000)).toBe(6);
  });

  it('incidents: members, counts per kind, evidence per kind, entities in insertion order', async () => {
    const incidents = new IncidentRepository(await fresh());
    const i = incidents.create({ scope: 'node', status: 'open', node: { id: '1', name: 'nas' }, container: 'ts', openedAt: T0, updatedAt: T0, lastActivityAt: T0 });
    incidents.putMember({ incidentId: i.id, fingerprint: 'f1', kind: 'cpu-sustained', status: 'firing', joinedAt: T0, updatedAt: T0, container: 'ts' });
    incidents.putMember({ incidentId: i.id, fingerprint: 'f2', kind: 'node-flapping', status: 'resolved', joinedAt: T0, updatedAt: T0, node: { id: '1', name: 'nas' } });
    incidents.putMember({ incidentId: i.id, fingerprint: 'f2', kind: 'node-flapping', status: 'firing', joinedAt: T0, updatedAt: T0 + 1 });
    expect(incidents.memberCounts(i.id)).toEqual({ firing: 2, total: 2, byKind: [{ kind: 'cpu-sustained', firing: 1, total: 1 }, { kind: 'node-flapping', firing: 1, total: 1 }] });
    expect(incidents.membersByKind(i.id, 1).map((m) => m.fingerprint)).toEqual(['f1', 'f2']);
    expect(incidents.membershipOf('f2')!.node).toEqual({ id: '1', name: 'nas' }); // kept when the update names none
    incidents.addEntity(i.id, 'node', '1');
    incidents.addEntity(i.id, 'container', 'ts');
    incidents.addEntity(i.id, 'node', '1');
    expect(incidents.entities(i.id)).toEqual({ nodes: ['1'], containers: ['ts'] });
  });

  it('audit: one hash chain that verifies, append-only', async () => {
    const store = await fresh();
    const log = new AuditLog(store, () => T0);
    for (let i = 0; i < 5; i++) log.append({ actor: `slack:U${i}`, event: 'requested', command: 'delete-node', requestId: i, detail: { n: i } });
    const rows = log.last(5).reverse();
    expect(rows[0]!.prevHash).toBe(GENESIS_HASH);
    for (let i = 1; i < rows.length; i++) expect(rows[i]!.prevHash).toBe(rows[i - 1]!.hash);
    expect(log.verify()).toEqual({ ok: true, rows: 5 });
    expect(() => store.db.prepare(`UPDATE audit_log SET actor = 'slack:EVIL' WHERE seq = 2`).run()).toThrow(/append-only/);
    expect(() => store.db.prepare('DELETE FROM audit_log WHERE seq = 2').run()).toThrow(/append-only/);
  });

  it('a failed transaction leaves nothing behind and the connection usable', async () => {
    const store = await fresh();
    const outbox = new Outbox(store);
    expect(() =>
      store.transaction(() => {
        outbox.enqueue('slack:C1', 'post', 'k1', {}, T0);
        store.transaction(() => outbox.enqueue('slack:C1', 'post', 'k2', {}, T0)); // a savepoint
        throw new Error('decided otherwise');
      }),
    ).toThrow('decided otherwise');
    expect(outbox.all()).toEqual([]);
    expect(() => store.db.prepare('SELECT * FROM no_such_table').all()).toThrow(/no_such_table/);
    outbox.enqueue('slack:C1', 'post', 'k3', {}, T0);
    expect(outbox.all().map((r) => r.refKey)).toEqual(['k3']);
  });
});

(POSTGRES_URL ? describe : describe.skip)('two replicas on one PostgreSQL database', () => {
  it('share one audit chain and one run claim: each decision is taken once', async () => {
    const url = await freshDatabase();
    const a = new Store(url);
    const b = new Store(url);
    open.push({ store: a, cleanup: () => {} }, { store: b, cleanup: () => {} });
    const logA = new AuditLog(a);
    const logB = new AuditLog(b);
    for (let i = 0; i < 20; i++) (i % 2 ? logA : logB).append({ actor: 'headwatch', event: 'requested', detail: { i } });
    expect(logA.verify()).toEqual({ ok: true, rows: 20 });
    const ra = new ApprovalRepository(a);
    const rb = new ApprovalRepository(b);
    const req = ra.create({ nonce: 'n', command: 'restart', args: {}, summary: 's', requester: { platform: 'slack', userId: 'U' }, channelId: 'C', required: 1, createdAt: T0, expiresAt: T0 + 60_000 });
    expect(rb.vote(req.id, 'slack:UAP', undefined, 'approve', T0 + 1).kind).toBe('approved');
    expect(ra.vote(req.id, 'slack:UAP2', undefined, 'approve', T0 + 2).kind).toBe('not-pending');
    expect([ra.move(req.id, 'approved', 'running', T0 + 3), rb.move(req.id, 'approved', 'running', T0 + 3)]).toEqual([true, false]);
  });

  it('refuses to start with a clear error when the server cannot be reached', () => {
    const u = new URL(POSTGRES_URL!);
    u.searchParams.set('host', '/tmp/hw-no-such-postgres');
    u.password = 'hunter2';
    expect(() => new Store(u.toString())).toThrow(/cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@.*HEADWATCH_DATABASE_URL/);
  });
});
