import { afterEach, describe, expect, it } from 'vitest';
import type { MessageRef, Platform } from '../../src/adapters/chat.js';
import type { Message } from '../../src/messages/model.js';
import type { CommandRouterOptions } from '../../src/interaction/router.js';
import { ApprovalRepository } from '../../src/store/approvals.js';
import { allText, buttons, cardButtons, startRig, type Rig } from './harness.js';

/**
 * Cards of one request on two platforms, across platform failures and restarts: every card is stored with the
 * request and redrawn until it shows the request's state (here the platforms are recorded; the real clients are in
 * test/e2e/crossplat.e2e.test.ts). Runs on SQLite and, with HEADWATCH_TEST_STORE=postgres, on PostgreSQL.
 */
let rig: Rig | undefined;
afterEach(async () => {
  await rig?.close();
  rig = undefined;
});

const ALERT_CHANNELS = [
  { platform: 'slack' as Platform, channelId: 'C1' },
  { platform: 'discord' as Platform, channelId: '900' },
];

/** A recorded Discord that can be down: posts and edits throw while `down`. */
function recordedDiscord() {
  let n = 0;
  const d = {
    down: false,
    posts: [] as { ref: MessageRef; message: Message }[],
    edits: [] as { ref: MessageRef; message: Message }[],
    options(): Partial<CommandRouterOptions> {
      return {
        alertChannels: ALERT_CHANNELS,
        postMessage: async (platform, channelId, message) => {
          if (d.down) throw new Error('could not reach Discord (connect ECONNREFUSED)');
          const ref = { platform, channelId, messageId: `d${++n}` };
          d.posts.push({ ref, message });
          return ref;
        },
        editMessage: async (ref, message) => {
          if (ref.platform !== 'discord') return;
          if (d.down) throw new Error('Discord answered HTTP 503');
          d.edits.push({ ref, message });
        },
      };
    },
  };
  return d;
}

describe('approval cards on both platforms', () => {
  it('a copy that could not be posted while Discord was down is posted after a restart, while the request is pending', async () => {
    const discord = recordedDiscord();
    discord.down = true;
    rig = await startRig({ router: discord.options() });
    const req = await rig.command('slack', 'UOP', 'delete-node laptop', { channelId: 'C1' });
    const { approve } = cardButtons(req);
    await rig.router.cardsSettled();
    const id = rig.router.approvals.pending()[0]!.id;
    expect(discord.posts).toHaveLength(0);
    expect(rig.router.approvals.withStaleCards()).toEqual([id]);
    expect(rig.router.approvals.get(id)!.cards.map((c) => `${c.platform}:${c.channelId}:${c.messageId ?? 'unposted'}`)).toEqual([
      `slack:C1:${req.lastRef()!.messageId}`,
      'discord:900:unposted',
    ]);

    discord.down = false;
    const router = rig.restart(discord.options());
    await router.sweep();
    expect(discord.posts).toHaveLength(1);
    expect(buttons(discord.posts[0]!.message).map((b) => b.actionId)).toContain(approve); // the same request, same nonce
    expect(router.approvals.withStaleCards()).toEqual([]);
  });

  it('a card Discord could not redraw is behind its request in the store, and the sweep after a restart redraws it to DONE', async () => {
    const discord = recordedDiscord();
    rig = await startRig({ router: discord.options() });
    const req = await rig.command('slack', 'UOP', 'delete-node laptop', { channelId: 'C1' });
    const { approve, ref } = cardButtons(req);
    await rig.router.cardsSettled();
    expect(discord.posts).toHaveLength(1);
    const id = rig.router.approvals.pending()[0]!.id;

    discord.down = true;
    const click = await rig.click('slack', 'UAP', approve, ref);
    expect(click.last('replace')!.fallback).toMatch(/^DONE/);
    await rig.router.cardsSettled();
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    const stored = new ApprovalRepository(rig.store).get(id)!;
    const copy = stored.cards.find((c) => c.platform === 'discord')!;
    expect(copy.drawnVersion).toBeLessThan(stored.version);
    expect(stored.cards.find((c) => c.platform === 'slack')!.drawnVersion).toBe(stored.version); // the clicked card is current

    discord.down = false;
    const router = rig.restart(discord.options());
    await router.sweep();
    expect(discord.edits.at(-1)!.message.fallback).toMatch(/^DONE: delete node 1/);
    expect(allText(discord.edits.at(-1)!.message)).toContain('1 of 1: user-UAP (slack:UAP)');
    expect(buttons(discord.edits.at(-1)!.message)).toHaveLength(0);
    expect(router.approvals.withStaleCards()).toEqual([]);
    expect(rig.hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
  });

  it('with one platform configured a request stays where it was asked', async () => {
    const discord = recordedDiscord();
    rig = await startRig({ router: { ...discord.options(), alertChannels: [ALERT_CHANNELS[0]!] } });
    await rig.command('slack', 'UOP', 'delete-node laptop', { channelId: 'C7' });
    await rig.router.cardsSettled();
    expect(discord.posts).toHaveLength(0);
    expect(rig.router.approvals.pending()[0]!.cards).toHaveLength(1);
  });
});
