import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import { SlackAdapter } from '../../src/adapters/slack/adapter.js';
import { FakeSlack } from '../fakes/slack/server.js';
import { startRig } from '../interaction/harness.js';

/**
 * HEADWATCH_IDENTITIES through the real Bolt client, the router and SQLite: one person's two accounts are one
 * person — the requester's other account cannot approve, and one approver voting from both accounts counts once
 * toward n-of-m.
 */
const BOT = 'xoxb-ids-bot';
const APP = 'xapp-ids-app';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const text = (v: unknown) => JSON.stringify(v);

function buttons(blocks: unknown[]): string[] {
  return (blocks as { type: string; elements?: { action_id: string }[] }[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).map((e) => e.action_id);
}

describe('HEADWATCH_IDENTITIES', () => {
  it('the requester cannot approve from their other account, and n-of-m counts people, not accounts', async () => {
    const rig = await startRig({
      env: {
        HEADWATCH_OPERATORS: 'slack:U0ALICE',
        HEADWATCH_APPROVERS: 'slack:U0ALICE2,slack:U0BOB,slack:U0BOB2,slack:U0CAROL',
        HEADWATCH_APPROVALS_REQUIRED: '2',
        HEADWATCH_IDENTITIES: 'alice=slack:U0ALICE,slack:U0ALICE2;bob=slack:U0BOB,slack:U0BOB2',
      },
    });
    const fake = new FakeSlack({ botToken: BOT, appToken: APP, pingMs: 1000 });
    await fake.start();
    const slack = new SlackAdapter({ botToken: BOT, appToken: APP, apiUrl: fake.apiUrl, logger: pino({ level: 'silent' }), clientPingTimeoutMs: 2000 });
    slack.setHandler(rig.router);
    await slack.start();
    cleanups.push(async () => {
      await slack.stop();
      await fake.stop();
      await rig.close();
    });

    await fake.slashCommand({ text: 'delete-node laptop', userId: 'U0ALICE', userName: 'alice' });
    const card = await fake.waitFor(() => fake.channelMessages().find((m) => buttons(m.blocks).length === 2));
    const approve = buttons(card.blocks)[0]!;
    const click = (userId: string) => fake.clickButton({ actionId: approve, messageTs: card.ts, userId, userName: userId });

    await click('U0ALICE2');
    await fake.waitFor(() => fake.responses.some((r) => text(r.body).includes('cannot approve your own request')));
    await click('U0BOB');
    await fake.waitFor(() => card.history.length > 0);
    await click('U0BOB2');
    await fake.waitFor(() => fake.responses.some((r) => text(r.body).includes('already voted')));
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(0); // still one person of two

    await click('U0CAROL');
    await fake.waitFor(() => card.text.includes('DONE:'));
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('a malformed setting stops the start naming the variable', async () => {
    const { loadConfig, ConfigError } = await import('../../src/config/load.js');
    expect(() => loadConfig({ dotenvPath: false, env: { HEADWATCH_IDENTITIES: 'alice=slack:U1;bob=slack:U1' } })).toThrow(ConfigError);
    expect(() => loadConfig({ dotenvPath: false, env: { HEADWATCH_IDENTITIES: 'alice=slack:U1;bob=slack:U1' } })).toThrow(/HEADWATCH_IDENTITIES.*slack:U1 is listed for both alice and bob/);
  });
});
