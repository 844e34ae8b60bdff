import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { allText, cardButtons, startRig, type Rig } from '../interaction/harness.js';

let rig: Rig;
afterEach(async () => {
  await rig?.close();
});

function dbBytes(path: string): Buffer {
  const parts = [path, `${path}-wal`, `${path}-shm`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
  return Buffer.concat(parts);
}

describe('pre-auth keys never leak', () => {
  it('without approval: only the requester’s private reply has the key; logs, audit and the database file do not', async () => {
    rig = await startRig({ env: { HEADWATCH_KEY_APPROVAL: 'false' } });
    const slack = await rig.command('slack', 'UOP', 'create-key alice');
    const discord = await rig.command('discord', '111', 'create-key', { options: { user: 'bob', reusable: true } });
    const keys = rig.hs.state.preAuthKeys.map((k) => k.key);
    expect(keys).toHaveLength(2);
    const secrets = keys.map((k) => k.split('-').at(-1)!);
    expect(allText(slack.last('private'))).toContain(keys[0]!);
    expect(allText(discord.last('private'))).toContain(keys[1]!);
    const rest = [slack, discord].flatMap((r) => r.sent.filter((s) => s.kind !== 'private')).map((s) => allText(s.message)).join('\n');
    const logs = rig.logs.join('');
    expect(logs.length).toBeGreaterThan(0);
    const audit = JSON.stringify(rig.router.audit.last(50));
    expect(audit).toContain('hskey-auth-');
    for (const s of secrets) {
      expect(rest).not.toContain(s);
      expect(logs).not.toContain(s);
      expect(audit).not.toContain(s);
      expect(dbBytes(rig.dbPath).includes(Buffer.from(s))).toBe(false);
    }
  });

  it('approved flows on both platforms: only the requesters’ private replies carry the keys', async () => {
    rig = await startRig();
    const a = await rig.command('slack', 'UOP', 'create-key alice --reusable --expiration 1h');
    const ca = await rig.click('discord', '222', cardButtons(a).approve);
    const b = await rig.command('discord', '111', 'create-key', { options: { user: 'bob', ephemeral: true } });
    const cb = await rig.click('slack', 'UAP', cardButtons(b).approve);
    const keys = rig.hs.state.preAuthKeys.map((k) => k.key);
    expect(keys).toHaveLength(2);
    const secrets = keys.map((k) => k.split('-').at(-1)!);

    expect(allText(a.last('private'))).toContain(keys[0]!);
    expect(allText(b.last('private'))).toContain(keys[1]!);
    const publicText = [
      ...[a, b].flatMap((r) => r.sent.filter((s) => s.kind !== 'private')),
      ...[ca, cb].flatMap((r) => r.sent),
    ]
      .map((s) => allText(s.message))
      .join('\n');
    const logs = rig.logs.join('');
    rig.store.db.pragma('wal_checkpoint(PASSIVE)');
    const bytes = dbBytes(rig.dbPath);
    for (const s of secrets) {
      expect(publicText).not.toContain(s);
      expect(logs).not.toContain(s);
      expect(bytes.includes(Buffer.from(s))).toBe(false);
    }
    // The prefix is what the channel sees.
    expect(publicText).toContain(keys[0]!.split('-').slice(0, 3).join('-'));
  });
});
