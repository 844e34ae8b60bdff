import { readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprintHash } from '../../src/alerts/model.js';
import { Dispatcher } from '../../src/dispatch/dispatcher.js';
import { AlertRepository } from '../../src/store/alerts.js';
import { ApprovalRepository } from '../../src/store/approvals.js';
import { AuditLog } from '../../src/store/audit.js';
import { Store } from '../../src/store/db.js';
import { MIGRATIONS, migrate } from '../../src/store/migrations.js';
import { NotificationLog } from '../../src/store/notification-log.js';
import { Outbox } from '../../src/store/outbox.js';
import { Silences } from '../../src/store/silences.js';
import { quietLogger, tmpDb } from '../adapters/helpers.js';
import { RecordingSender } from '../dispatch/harness.js';

/**
 * A database written by headwatch 3b6b99c (per-module migrations, dispatch_alerts beside alerts): three engine
 * alerts, one dispatcher-only platform-down alert, a fingerprint too long for a button id, four webhook batches
 * still in the outbox (the webhook was down), a pending approval, two audit rows and a silence.
 */
const LEGACY = readFileSync(new URL('./fixtures/legacy-3b6b99c.sql', import.meta.url), 'utf8');
const LONG_FP = `node-offline:${'x'.repeat(120)}`;

let db: ReturnType<typeof tmpDb> | undefined;
let store: Store | undefined;
afterEach(() => {
  store?.close();
  db?.cleanup();
  store = db = undefined;
});

function legacyFile(): string {
  db = tmpDb();
  const raw = new Database(db.path);
  raw.exec(LEGACY);
  raw.close();
  return db.path;
}

const tables = (s: Store) => (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
const applied = (s: Store) => (s.db.prepare(`SELECT id FROM schema_migrations ORDER BY rowid`).all() as { id: string }[]).map((r) => r.id);

describe('store migrations: one list', () => {
  it('creates every table of a new database in list order, and reopening applies nothing again', () => {
    db = tmpDb();
    store = new Store(db.path);
    expect(applied(store)).toEqual(MIGRATIONS.map((m) => m.id));
    expect(tables(store)).toEqual(expect.arrayContaining(['alerts', 'outbox', 'deliveries', 'silences', 'approvals', 'audit_log', 'dispatch_log', 'dispatch_pending', 'dispatch_digest']));
    expect(tables(store)).not.toContain('dispatch_alerts');
    expect(tables(store)).not.toContain('schema_versions');
    expect(migrate(store.db)).toEqual([]);
  });

  it('an upgrade that fails part-way leaves the file as it was', () => {
    db = tmpDb();
    const raw = new Database(db.path);
    const broken = [...MIGRATIONS.slice(0, 2), { id: 'broken/1', up: 'CREATE TABLE half_done (x); SELECT * FROM no_such_table;' }];
    expect(() => migrate(raw, broken)).toThrow(/no_such_table/);
    expect(raw.prepare(`SELECT name FROM sqlite_master`).all()).toEqual([]);
    raw.close();
  });
});

describe('store migrations: a database from before the single list', () => {
  it('keeps alerts, outbox, approvals, audit, silences and the notification log, with one copy of the alerts', () => {
    store = new Store(legacyFile());
    // what 3b6b99c had applied is recognised, then the rest of the list runs in its order
    const before = ['alerts/1', 'dispatch/1', 'outbox/1', 'deliveries/1', 'silences/1', 'approvals/1', 'audit/1'];
    expect(applied(store)).toEqual([...before, ...MIGRATIONS.map((m) => m.id).filter((id) => !before.includes(id))]);
    expect(applied(store)).toEqual(expect.arrayContaining(['alerts/2', 'dispatch/2']));
    expect(tables(store)).not.toContain('dispatch_alerts');
    expect(tables(store)).not.toContain('schema_versions');

    const alerts = new AlertRepository(store);
    expect(alerts.firing().map((a) => a.fingerprint).sort()).toEqual(['cpu-sustained:headscale', 'node-flapping:node-1', LONG_FP, 'platform-down:slack']);
    // the dispatcher's own alert came over whole, from its JSON copy
    expect(alerts.get('platform-down:slack')).toMatchObject({ kind: 'platform-down', severity: 'critical', subject: 'slack', summary: 'Slack down', evidence: ['ECONNREFUSED'], labels: {}, endsAt: null, occurrences: 1 });
    expect(alerts.get('node-flapping:node-1')).toMatchObject({ evidence: ['e1'], labels: { nodeId: '1' }, startsAt: '2026-01-05T10:00:00.000Z' });
    // buttons already posted with a hashed fingerprint still find their alert
    expect(alerts.byFingerprintHash(fingerprintHash(LONG_FP))?.fingerprint).toBe(LONG_FP);
    expect(alerts.byFingerprintHash(fingerprintHash('cpu-sustained:headscale'))?.fingerprint).toBe('cpu-sustained:headscale');

    expect(new Outbox(store).all().map((r) => [r.id, r.status, r.attempts])).toEqual([[1, 'pending', 1], [2, 'pending', 0], [3, 'pending', 0], [4, 'pending', 0]]);
    expect(new ApprovalRepository(store).get(1)).toMatchObject({ command: 'delete-node', state: 'pending' });
    expect(new NotificationLog(store).get('webhook', 'node-flapping:node-1')).toMatchObject({ status: 'firing', folded: false, refKey: null });
    const silence = store.db.prepare(`SELECT expires_at FROM silences`).get() as { expires_at: number };
    expect(new Silences(store, () => silence.expires_at - 1).list()).toMatchObject([{ matcher: 'kind', value: 'version-skew', reason: 'upgrade' }]);

    const audit = new AuditLog(store);
    expect(audit.verify()).toEqual({ ok: true, rows: 2 });
    audit.append({ actor: 'headwatch', event: 'executed', command: 'delete-node', requestId: 1 });
    expect(audit.verify()).toEqual({ ok: true, rows: 3 }); // the chain goes on from the old rows
  });

  it('delivers what was waiting in the outbox, once and in order, after the upgrade', async () => {
    store = new Store(legacyFile());
    const webhook = new RecordingSender('webhook');
    // a minute after the old process stopped: the rows' retries are due, repeats (after an hour) are not
    const stoppedAt = (store.db.prepare(`SELECT MAX(next_at) AS t FROM outbox`).get() as { t: number }).t;
    const dispatcher = new Dispatcher({
      clock: () => stoppedAt + 60_000,
      store,
      config: { HEADWATCH_ROUTES: undefined, HEADWATCH_GROUP_WAIT: 1000, HEADWATCH_GROUP_INTERVAL: 10_000, HEADWATCH_REPEAT_INTERVAL: 3_600_000, HEADWATCH_CHANNEL_BUDGET: 10 },
      logger: quietLogger(),
      destinations: [webhook],
    });
    await dispatcher.flush();
    await dispatcher.flush();
    await dispatcher.stop();
    expect(webhook.batches.map((b) => b.map((a) => a.fingerprint))).toEqual([['node-flapping:node-1'], ['cpu-sustained:headscale'], [LONG_FP], ['platform-down:slack']]);
    expect(new Outbox(store).all().map((r) => r.status)).toEqual(['sent', 'sent', 'sent', 'sent']);
  });
});

describe('approvals/2: every card of a request', () => {
  it('carries the one card of an earlier release over, and redraws nothing that was already shown', () => {
    db = tmpDb();
    const raw = new Database(db.path);
    const before = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.id === 'approvals/2'));
    migrate(raw, before);
    raw
      .prepare(
        `INSERT INTO approvals (nonce, command, args, summary, requester_platform, requester_id, channel_id, card_channel, card_message, card_thread,
           required, state, created_at, expires_at, updated_at) VALUES ('n0nce123', 'delete-node', '{}', 'delete node 8', 'discord', '42', '900', '900', '777', NULL, 1, 'pending', 1, 2, 1)`,
      )
      .run();
    raw.close();
    store = new Store(db.path);
    const repo = new ApprovalRepository(store);
    const [a] = repo.pending();
    expect(a!.cards).toEqual([{ platform: 'discord', channelId: '900', messageId: '777', drawnVersion: 0 }]);
    expect(a!.version).toBe(0);
    expect(repo.withStaleCards()).toEqual([]);
    expect(repo.vote(a!.id, 'discord:43', 'bob', 'approve', 1)).toMatchObject({ kind: 'approved' });
    expect(repo.withStaleCards()).toEqual([a!.id]); // the card now shows less than the request
  });
});
