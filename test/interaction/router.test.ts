import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/model.js';
import { commandButton } from '../../src/interaction/buttons.js';
import { allText, buttons, cardButtons, startRig, staticContainers, type Rig } from './harness.js';

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

const firing = (over: Partial<Alert>): Alert => ({
  fingerprint: 'node-flapping:laptop',
  kind: 'node-flapping',
  severity: 'warning',
  subject: 'laptop',
  summary: 'laptop flapped 7 times in 5m',
  evidence: [],
  labels: {},
  status: 'firing',
  startsAt: '2026-11-26T09:50:00Z',
  updatedAt: '2026-11-26T09:55:00Z',
  endsAt: null,
  occurrences: 1,
  ...over,
});

describe('acknowledgement and help', () => {
  it('acknowledges first, then answers; an empty command shows help privately', async () => {
    rig = await startRig();
    const r = await rig.command('slack', 'URANDOM', '');
    expect(r.sent[0]!.kind).toBe('ack');
    expect(r.sent[0]!.message.ephemeral).toBe(true);
    const help = r.last('replace')!;
    expect(help.ephemeral).toBe(true);
    for (const sub of ['nodes', 'delete-node', 'create-key', 'restart', 'status', 'silence', 'alerts', 'audit', 'help']) {
      expect(help.fallback).toContain(`/headscale ${sub}`);
    }
  });

  it('answers an unknown subcommand with help, what was wrong and a suggestion', async () => {
    rig = await startRig();
    const r = await rig.command('slack', 'UOP', 'delete-nod 3');
    expect(r.last('replace')!.fallback).toMatch(/there is no command "delete-nod" — did you mean delete-node\?/);
    expect(r.last('replace')!.fallback).toContain('/headscale nodes');
  });

  it('names the problem for bad flags, missing and extra arguments', async () => {
    rig = await startRig();
    expect((await rig.command('slack', 'UOP', 'create-key')).last('replace')!.fallback).toContain('missing <user>');
    expect((await rig.command('slack', 'UOP', 'create-key alice --forever')).last('replace')!.fallback).toContain('unknown option --forever');
    expect((await rig.command('slack', 'UOP', 'create-key alice --expiration')).last('replace')!.fallback).toContain('--expiration needs a value');
    expect((await rig.command('slack', 'UOP', 'create-key alice --expiration soon')).last('replace')!.fallback).toContain('expiration must be a duration');
    expect((await rig.command('slack', 'UOP', 'create-key alice --tags prod')).last('replace')!.fallback).toContain('tags must be a comma list like tag:server');
    expect((await rig.command('slack', 'UOP', 'restart a b')).last('replace')!.fallback).toContain('unexpected argument "b"');
    expect((await rig.command('slack', 'UOP', 'audit 500')).last('replace')!.fallback).toContain('n must be between 1 and 50');
    expect((await rig.command('slack', 'UOP', 'nodes "alice')).last('replace')!.fallback).toContain('quote');
    // Nothing reached Headscale for malformed input.
    expect(rig.hs.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
  });
});

describe('read-only commands', () => {
  it('nodes: table with id, name, user, online, last seen and flap counts, open to anyone', async () => {
    rig = await startRig();
    const r = await rig.command('slack', 'USTRANGER', 'nodes');
    const m = r.last('replace')!;
    expect(m.ephemeral).toBe(false);
    const table = m.blocks.find((b) => b.type === 'table');
    expect(table).toMatchObject({ columns: ['id', 'name', 'user', 'online', 'last seen', 'flaps (5m)'] });
    const rows = (table as { rows: string[][] }).rows;
    expect(rows.map((row) => row.slice(0, 4))).toEqual([
      ['1', 'laptop', 'alice', 'yes'],
      ['2', 'server', 'bob', 'no'],
      ['3', 'phone', 'alice', 'yes'],
    ]);
    expect(rows[0]![5]).toBe('4');
    expect(rows[1]![4]).toMatch(/ago$/);
    const only = (await rig.command('slack', 'USTRANGER', 'nodes alice')).last('replace')!;
    expect(only.fallback).toContain('2 nodes of user alice');
  });

  it('nodes: long lists are paginated with a pointer to the next page, never cut silently', async () => {
    rig = await startRig({ nodes: Array.from({ length: 45 }, (_, i) => ({ name: `n${i + 1}`, user: 'alice' })) });
    const p1 = (await rig.command('discord', '999', 'nodes', { options: {} })).last('replace')!;
    expect(p1.fallback).toContain('Page 1 of 3 (45 rows). Next: /headscale nodes --page 2');
    const p3 = (await rig.command('discord', '999', 'nodes', { options: { page: 3 } })).last('replace')!;
    const rows = (p3.blocks.find((b) => b.type === 'table') as { rows: string[][] }).rows;
    expect(rows.map((r) => r[1])).toEqual(['n41', 'n42', 'n43', 'n44', 'n45']);
  });

  it('status: version, reachability, containers with CPU and firing alerts', async () => {
    rig = await startRig({ alerts: [firing({})] });
    const m = (await rig.command('slack', 'USTRANGER', 'status')).last('replace')!;
    const t = allText(m);
    expect(t).toContain('0.29.2');
    expect(t).toContain('Reachable');
    expect(t).toContain('tailscale-a');
    expect(t).toContain('3.5 %');
    expect(t).toContain('laptop flapped 7 times');
    await rig.hs.down();
    const down = (await rig.command('slack', 'USTRANGER', 'status')).last('replace')!;
    expect(down.fallback).toMatch(/reachable: NO/);
    expect(down.tone).toBe('critical');
  });

  it('alerts: firing alerts most severe first', async () => {
    rig = await startRig({ alerts: [firing({}), firing({ fingerprint: 'cpu-sustained:headscale', kind: 'cpu-sustained', severity: 'critical', subject: 'headscale', summary: 'cpu 97 %' })] });
    const m = (await rig.command('slack', 'USTRANGER', 'alerts')).last('replace')!;
    const rows = (m.blocks.find((b) => b.type === 'table') as { rows: string[][] }).rows;
    expect(rows.map((r) => r[0])).toEqual(['critical', 'warning']);
  });

  it('alerts: wide rows make shorter pages so no platform limit cuts the table', async () => {
    const many = Array.from({ length: 30 }, (_, i) =>
      firing({ fingerprint: `node-flapping:node-${i}-${'x'.repeat(30)}`, subject: `node-${i}-${'x'.repeat(30)}`, summary: `node ${i} ${'flapped '.repeat(12)}` }),
    );
    rig = await startRig({ alerts: many });
    const seen = new Set<string>();
    for (let page = 1; page <= 30; page++) {
      const m = (await rig.command('discord', '999', 'alerts', { options: { page } })).last('replace')!;
      const table = m.blocks.find((b) => b.type === 'table') as { columns: string[]; rows: string[][] };
      const widths = table.columns.map((c, i) => Math.max(c.length, ...table.rows.map((r) => r[i]!.length)));
      const chars = (table.rows.length + 1) * (widths.reduce((a, w) => a + w + 2, 0) + 1);
      expect(chars).toBeLessThanOrEqual(3000);
      for (const r of table.rows) seen.add(r[5]!);
      if (!m.fallback.includes('Next:')) break;
    }
    expect(seen.size).toBe(30);
  });
});

describe('permissions', () => {
  it('refuses actions to users without a role, privately, and audits the attempt', async () => {
    rig = await startRig();
    const r = await rig.command('slack', 'USTRANGER', 'delete-node 1');
    expect(r.sent[0]!.message.ephemeral).toBe(true);
    const m = r.last('replace')!;
    expect(m.ephemeral).toBe(true);
    expect(m.fallback).toContain('not allowed');
    expect(m.fallback).toContain('HEADWATCH_OPERATORS');
    expect(r.of('post')).toHaveLength(0);
    expect(rig.router.audit.last(1)[0]).toMatchObject({ actor: 'slack:USTRANGER', event: 'refused', command: 'delete-node' });
  });

  it('with no role lists configured, actions are refused with how to configure them', async () => {
    rig = await startRig({ env: { HEADWATCH_OPERATORS: '', HEADWATCH_APPROVERS: '', HEADWATCH_ADMINS: '' } });
    const m = (await rig.command('slack', 'UOP', 'restart tailscale-a')).last('replace')!;
    expect(m.fallback).toContain('no operators are configured');
    expect(m.fallback).toContain('HEADWATCH_OPERATORS');
    // Read-only commands stay open.
    expect((await rig.command('slack', 'UOP', 'nodes')).last('replace')!.fallback).toContain('3 nodes');
  });
});

describe('approvals', () => {
  it('delete-node: card with the exact action and Approve/Deny; approval runs it once (expire first on 0.29)', async () => {
    rig = await startRig();
    const req = await rig.command('slack', 'UOP', 'delete-node laptop');
    const card = req.last('post')!;
    expect(card.fallback).toContain('delete node 1 (laptop, user alice)');
    expect(card.fallback).toContain('user-UOP (slack:UOP)');
    expect(buttons(card).map((b) => b.label)).toEqual(['Approve', 'Deny']);
    expect(req.last('replace')!.fallback).toMatch(/Request #\d+ to delete node 1/);
    expect(req.last('replace')!.ephemeral).toBe(true);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);

    const { approve } = cardButtons(req);
    const click = await rig.click('slack', 'UAP', approve);
    const states = click.of('replace').map((m) => m.fallback.split(':')[0]);
    expect(states).toEqual(['APPROVED', 'RUNNING', 'DONE']);
    expect(click.last('replace')!.fallback).toContain('Deleted node 1 (laptop, user alice)');
    expect(buttons(click.last('replace'))).toHaveLength(0);
    expect(rig.hs.requestsTo('POST', '/api/v1/node/1/expire')).toHaveLength(1);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    const expireAt = rig.hs.requests.findIndex((r) => r.path === '/api/v1/node/1/expire');
    const deleteAt = rig.hs.requests.findIndex((r) => r.method === 'DELETE');
    expect(expireAt).toBeLessThan(deleteAt);

    const events = rig.router.audit.last(20).reverse().map((r) => `${r.event}:${r.actor}`);
    expect(events).toEqual(['requested:slack:UOP', 'approved:slack:UAP', 'executing:headwatch', 'executed:headwatch']);
  });

  it('deny: nothing runs and the card says DENIED by whom', async () => {
    rig = await startRig();
    const { deny, approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 2'));
    const click = await rig.click('slack', 'UAP', deny);
    expect(click.last('replace')!.fallback).toMatch(/^DENIED: delete node 2/);
    expect(allText(click.last('replace'))).toContain('Denied by');
    const late = await rig.click('slack', 'UAP2', approve);
    expect(late.last('private')!.fallback).toContain('already denied');
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/2')).toHaveLength(0);
  });

  it('expiry: a click after the TTL does nothing and the card says EXPIRED; the sweep edits stale cards', async () => {
    rig = await startRig({ env: { HEADWATCH_APPROVAL_TTL: '10m' } });
    const first = cardButtons(await rig.command('slack', 'UOP', 'delete-node 1'));
    rig.clock.now += 10 * 60_000 + 1;
    const click = await rig.click('slack', 'UAP', first.approve);
    expect(click.last('replace')!.fallback).toMatch(/^EXPIRED/);
    expect(click.last('private')!.fallback).toContain('expired');
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);

    const second = cardButtons(await rig.command('slack', 'UOP', 'delete-node 2'));
    rig.clock.now += 9 * 60_000;
    expect(await rig.router.sweep()).toBe(0);
    rig.clock.now += 2 * 60_000;
    expect(await rig.router.sweep()).toBe(1);
    expect(rig.edits.at(-1)!.ref).toEqual(second.ref);
    expect(rig.edits.at(-1)!.message.fallback).toMatch(/^EXPIRED/);
    expect(buttons(rig.edits.at(-1)!.message)).toHaveLength(0);
    expect(rig.router.audit.last(1)[0]).toMatchObject({ event: 'expired', actor: 'headwatch' });
  });

  it('self-approval is refused unless HEADWATCH_SELF_APPROVE=true', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UADM', 'delete-node 1'));
    const self = await rig.click('slack', 'UADM', approve);
    expect(self.last('private')!.fallback).toContain('cannot approve your own request');
    expect(self.of('replace')).toHaveLength(0);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);
    expect(rig.router.audit.last(1)[0]).toMatchObject({ event: 'click-rejected', detail: { reason: 'self-approval' } });
    await rig.close();

    rig = await startRig({ env: { HEADWATCH_SELF_APPROVE: 'true' } });
    const again = cardButtons(await rig.command('slack', 'UADM', 'delete-node 1'));
    await rig.click('slack', 'UADM', again.approve);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('a non-approver click is refused and audited; an operator cannot approve', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 1'));
    for (const who of ['USTRANGER', 'UOP']) {
      const r = await rig.click('slack', who, approve);
      expect(r.last('private')!.fallback).toContain('not allowed to approve');
      expect(rig.router.audit.last(1)[0]).toMatchObject({ actor: `slack:${who}`, event: 'refused' });
    }
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);
  });

  it('double click, concurrent clicks and a replayed click run the action once', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 1'));
    await Promise.all([rig.click('slack', 'UAP', approve), rig.click('slack', 'UAP', approve), rig.click('slack', 'UAP2', approve), rig.click('discord', '222', approve)]);
    const replay = await rig.click('slack', 'UAP', approve);
    expect(replay.last('private')!.fallback).toMatch(/already (done|running|approved)/);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    expect(rig.router.audit.last(50).filter((r) => r.event === 'executed')).toHaveLength(1);
  });

  it('a forged or stale nonce does nothing', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 1'));
    const forged = approve.replace(/:[^:]+$/, ':AAAAAAAAAAAAAAAAAAAAAA');
    const r = await rig.click('slack', 'UAP', forged);
    expect(r.last('private')!.fallback).toContain('not valid any more');
    expect((await rig.click('slack', 'UAP', 'something-else')).last('private')!.fallback).toContain('not recognised');
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0);
    expect(rig.router.approvals.get(1)!.state).toBe('pending');
  });

  it('n-of-m: HEADWATCH_APPROVALS_REQUIRED=2 needs two different approvers', async () => {
    rig = await startRig({ env: { HEADWATCH_APPROVALS_REQUIRED: '2' } });
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 3'));
    const one = await rig.click('slack', 'UAP', approve);
    expect(allText(one.last('replace'))).toContain('1 of 2');
    expect(buttons(one.last('replace'))).toHaveLength(2);
    const same = await rig.click('slack', 'UAP', approve);
    expect(same.last('private')!.fallback).toContain('already voted');
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/3')).toHaveLength(0);
    const two = await rig.click('discord', '222', approve);
    expect(two.last('replace')!.fallback).toMatch(/^DONE/);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/3')).toHaveLength(1);
  });

  it('a restart keeps pending requests; an approved request is never run twice', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 1'));
    rig.restart();
    expect(rig.router.approvals.pending()).toHaveLength(1);
    const r = await rig.click('slack', 'UAP', approve);
    expect(r.last('replace')!.fallback).toMatch(/^DONE/);
    rig.restart();
    await rig.click('slack', 'UAP2', approve);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('an action that was running when headwatch stopped is verified, not re-run (here: it never reached Headscale)', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'delete-node 2'));
    // Simulate a crash right after the execution claim.
    const id = rig.router.approvals.pending()[0]!.id;
    rig.router.approvals.vote(id, 'slack:UAP', 'ap', 'approve', rig.clock.now);
    expect(rig.router.approvals.move(id, 'approved', 'running', rig.clock.now)).toBe(true);
    const router = rig.restart();
    router.start(60_000);
    await router.interruptedVerified;
    expect(router.approvals.get(id)!.state).toBe('failed');
    expect(router.approvals.get(id)!.result).toContain('did not run (verified after restart): node 2 (server, user bob) is still in Headscale');
    await rig.click('slack', 'UAP2', approve);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/2')).toHaveLength(0);
    expect(rig.edits.at(-1)!.message.fallback).toMatch(/^FAILED/);
  });

  it('delete-node: unknown or ambiguous names are answered before any card', async () => {
    rig = await startRig({ nodes: [{ name: 'dup', user: 'alice' }, { name: 'dup', user: 'bob' }] });
    const missing = (await rig.command('slack', 'UOP', 'delete-node ghost')).last('replace')!;
    expect(missing.fallback).toContain('no node with id or name "ghost"');
    const dup = await rig.command('slack', 'UOP', 'delete-node dup');
    expect(dup.last('replace')!.fallback).toContain('ids 1, 2');
    expect(dup.of('post')).toHaveLength(0);
  });

  it('restart: only watched or HEADWATCH_RESTARTABLE containers can be requested', async () => {
    rig = await startRig({ docker: staticContainers([{ name: 'tailscale-a' }]) });
    const bad = (await rig.command('slack', 'UOP', 'restart postgres')).last('replace')!;
    expect(bad.fallback).toContain('postgres cannot be restarted from chat');
    expect(bad.fallback).toContain('tailscale-a');
    const ok = await rig.command('slack', 'UOP', 'restart tailscale-a');
    expect(ok.last('post')!.fallback).toContain('restart container tailscale-a');
    await rig.close();
    rig = await startRig({ env: { HEADWATCH_RESTARTABLE: 'postgres' }, docker: staticContainers([{ name: 'tailscale-a' }]) });
    expect((await rig.command('slack', 'UOP', 'restart postgres')).last('post')!.fallback).toContain('restart container postgres');
    expect((await rig.command('slack', 'UOP', 'restart tailscale-a')).of('post')).toHaveLength(0);
  });
});

describe('create-key', () => {
  it('approved: the key goes privately to the requester, never to the approver or the channel', async () => {
    rig = await startRig();
    const req = await rig.command('discord', '111', 'create-key', { options: { user: 'alice', reusable: true, expiration: '2h', tags: 'tag:ci' } });
    expect(req.last('post')!.fallback).toContain('create a pre-auth key for user alice (reusable, tags tag:ci; valid 2h)');
    const { approve } = cardButtons(req);
    const click = await rig.click('slack', 'UAP', approve);
    const key = rig.hs.state.preAuthKeys[0]!.key;
    expect(key).toMatch(/^hskey-auth-/);
    expect(req.of('private').map((m) => allText(m)).join()).toContain(key);
    expect(click.sent.map((s) => allText(s.message)).join()).not.toContain(key);
    expect(req.sent.filter((s) => s.kind !== 'private').map((s) => allText(s.message)).join()).not.toContain(key);
    expect(click.last('replace')!.fallback).toMatch(/^DONE/);
    expect(click.last('replace')!.fallback).toContain(key.slice(0, 23));
    const body = rig.hs.requestsTo('POST', '/api/v1/preauthkey')[0]!.body as Record<string, unknown>;
    expect(body).toMatchObject({ reusable: true, ephemeral: false, aclTags: ['tag:ci'] });
    // Expiration counts from creation: 2 h after the (injected) clock.
    expect(Date.parse(String(body.expiration))).toBe(rig.clock.now + 2 * 3_600_000);
  });

  it('HEADWATCH_KEY_APPROVAL=false: created at once, key shown privately once', async () => {
    rig = await startRig({ env: { HEADWATCH_KEY_APPROVAL: 'false' } });
    const r = await rig.command('slack', 'UOP', 'create-key bob --ephemeral');
    const key = rig.hs.state.preAuthKeys[0]!.key;
    expect(r.of('private')).toHaveLength(1);
    expect(allText(r.last('private'))).toContain(key);
    expect(r.last('replace')!.fallback).toContain('sent privately');
    expect(allText(r.last('replace'))).not.toContain(key);
    expect(r.of('post')).toHaveLength(0);
  });

  it('after a restart with no way to reach the requester privately, nothing is created', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'create-key alice'));
    rig.restart();
    const click = await rig.click('slack', 'UAP', approve);
    expect(click.last('replace')!.fallback).toMatch(/^FAILED.*cannot be reached privately/);
    expect(rig.hs.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
  });

  it('after a restart the key goes to the requester by direct message', async () => {
    rig = await startRig();
    const { approve } = cardButtons(await rig.command('slack', 'UOP', 'create-key alice'));
    const dms: { platform: string; userId: string; text: string }[] = [];
    rig.restart({ directMessage: async (platform, userId, m) => void dms.push({ platform, userId, text: allText(m) }) });
    await rig.click('slack', 'UAP', approve);
    const key = rig.hs.state.preAuthKeys[0]!.key;
    expect(dms).toHaveLength(1);
    expect(dms[0]).toMatchObject({ platform: 'slack', userId: 'UOP' });
    expect(dms[0]!.text).toContain(key);
  });
});

describe('command buttons', () => {
  it('runs the alert message’s Silence 1h as `silence add` by the clicker: same role check, private answers, audit', async () => {
    rig = await startRig();
    const refused = await rig.click('slack', 'USTRANGER', 'silence:node-flapping:laptop:1h');
    expect(refused.sent.map((s) => s.kind)).toEqual(['private']); // the alert message itself is not redrawn
    expect(refused.last('private')!.fallback).toContain('not allowed to silence alerts');
    expect(rig.router.audit.last(1)[0]).toMatchObject({ actor: 'slack:USTRANGER', event: 'refused', command: 'silence', detail: { via: 'button' } });

    const ok = await rig.click('slack', 'UOP', 'silence:node-flapping:laptop:1h');
    expect(ok.sent.map((s) => s.kind)).toEqual(['private']);
    expect(ok.last('private')!.fallback).toMatch(/^Silenced node-flapping:laptop until /);
    const row = rig.router.audit.last(1)[0]!;
    expect(row).toMatchObject({ actor: 'slack:UOP', event: 'executed', command: 'silence', detail: { matcher: 'fingerprint', value: 'node-flapping:laptop', via: 'button' } });
    expect(row.detail['expiresAt']).toBe(rig.clock.now + 3_600_000);

    const unknown = await rig.click('slack', 'UOP', 'other:thing');
    expect(unknown.last('private')!.fallback).toContain('not recognised');
    const undeclared = await rig.click('slack', 'UOP', 'create-key:?user=alice');
    expect(undeclared.last('private')!.fallback).toContain('not recognised');
    expect(rig.hs.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
  });

  it('a commandButton() click is the typed command: restart posts an approval card the clicker cannot approve', async () => {
    rig = await startRig();
    const { actionId } = commandButton('restart', { container: 'tailscale-a' }, 'Restart container', 'danger');
    expect((await rig.click('slack', 'UAP', actionId)).last('private')!.fallback).toContain('not allowed to restart containers');
    const r = await rig.click('slack', 'UOP', actionId);
    const card = r.last('post')!;
    expect(card.fallback).toContain('restart container tailscale-a');
    expect(r.last('private')!.fallback).toMatch(/Request #\d+ to restart container tailscale-a is waiting/);
    expect(rig.router.audit.last(1)[0]).toMatchObject({ actor: 'slack:UOP', event: 'requested', command: 'restart' });
    const self = await rig.click('slack', 'UOP', cardButtons(r).approve);
    expect(self.last('private')!.fallback).toContain('not allowed to approve');
    // A bad value in a button is refused like a bad typed argument.
    const bad = await rig.click('slack', 'UOP', commandButton('restart', { container: 'no such' }, 'x').actionId);
    expect(bad.last('private')!.fallback).toContain('container must be a Docker container name');
    expect(() => commandButton('restart', { container: 'x'.repeat(100) }, 'Restart')).toThrow(/at most 100/);
  });
});

describe('silence', () => {
  it('operators add and remove silences through the dispatcher’s store; anyone may list', async () => {
    rig = await startRig();
    const refused = await rig.command('slack', 'USTRANGER', 'silence add node-flapping:laptop');
    expect(refused.last('replace')!.fallback).toContain('not allowed');
    const added = await rig.command('slack', 'UOP', 'silence add node-flapping:laptop --for 2h --comment "wifi work"');
    expect(added.last('replace')!.fallback).toMatch(/Silenced fingerprint node-flapping:laptop for 2h .*silence id [0-9a-f]{8}/);
    const kind = await rig.command('discord', '111', 'silence', { options: { action: 'add', target: 'cpu-sustained', for: '30m' } });
    expect(kind.last('replace')!.fallback).toContain('Silenced kind cpu-sustained for 30m');
    const list = (await rig.command('slack', 'USTRANGER', 'silence list')).last('replace')!;
    expect(list.fallback).toContain('2 active silences');
    expect(list.fallback).toContain('fingerprint=node-flapping:laptop');
    expect(list.fallback).toContain('wifi work');
    const id = /silence id ([0-9a-f]{8})/.exec(added.last('replace')!.fallback)![1]!;
    expect((await rig.command('slack', 'UOP', `silence remove ${id}`)).last('replace')!.fallback).toContain(`Removed silence ${id}`);
    expect((await rig.command('slack', 'UOP', `silence remove ${id}`)).last('replace')!.fallback).toContain('No active silence');
    expect((await rig.command('slack', 'UOP', 'silence list')).last('replace')!.fallback).toContain('1 active silence');
    expect((await rig.command('slack', 'UOP', 'silence add')).last('replace')!.fallback).toContain('silence add needs');
  });
});

describe('audit', () => {
  it('audit [n] shows recent rows to role holders and reports the chain verified', async () => {
    rig = await startRig();
    await rig.command('slack', 'UOP', 'delete-node 1');
    const r = await rig.command('slack', 'UAP', 'audit 5');
    const m = r.last('replace')!;
    expect(m.ephemeral).toBe(true);
    expect(m.fallback).toContain('Hash chain verified');
    expect(m.fallback).toContain('requested');
    const refused = await rig.command('slack', 'USTRANGER', 'audit');
    expect(refused.last('replace')!.fallback).toContain('not allowed');
  });
});
