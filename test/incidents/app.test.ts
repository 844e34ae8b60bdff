import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import type { Finding } from '../../src/parsers/finding.js';
import { FakeSlack, type SlackMessage } from '../fakes/slack/server.js';

/**
 * Incident messages in the running app (no Docker engine: findings are fed as the sources would) through the real
 * Bolt client against the fake Slack: a server incident for many nodes, the Silence button through the router,
 * `/headscale incidents`, and an incident decided before a restart but not yet posted.
 */
const CHANNEL = 'C0INC';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const text = (v: unknown) => JSON.stringify(v);
const incidents = (slack: FakeSlack): SlackMessage[] => slack.channelMessages(CHANNEL).filter((m) => /Incident #\d+/.test(m.text));

function buttons(m: SlackMessage): { label: string; actionId: string }[] {
  return (m.blocks as { type: string; elements?: { action_id: string; text: { text: string } }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ label: e.text.text, actionId: e.action_id }));
}

async function start(db = join(mkdtempSync(join(tmpdir(), 'hw-inc-app-')), 'hw.db'), slack?: FakeSlack): Promise<{ app: Headwatch; slack: FakeSlack; db: string }> {
  if (!slack) {
    slack = new FakeSlack({ botToken: 'xoxb-inc', appToken: 'xapp-inc', pingMs: 1000 });
    await slack.start();
    const s = slack;
    cleanups.push(() => s.stop());
  }
  const config = loadConfig({
    dotenvPath: false,
    env: {
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DB: db,
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_CONSOLE: 'false',
      SLACK_BOT_TOKEN: 'xoxb-inc',
      SLACK_APP_TOKEN: 'xapp-inc',
      SLACK_CHANNEL: CHANNEL,
      SLACK_API_URL: slack.apiUrl,
      HEADWATCH_OPERATORS: 'slack:U0OPER',
      HEADWATCH_APPROVERS: 'slack:U0APPR',
      HEADWATCH_GROUP_WAIT: '2s',
      FLAP_COUNT: '2',
      // Quiet for half the window (5 s) clears a flapping alert.
      FLAP_WINDOW_SECONDS: '10',
      HEADWATCH_INCIDENT_SERVER_NODES: '3',
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop();
  };
  cleanups.push(stop);
  await app.start();
  await slack.waitFor(() => slack!.socketCount > 0, 30_000);
  return { app, slack, db };
}

function flap(app: Headwatch, nodeId: string, name: string, times = 2): void {
  for (let i = 0; i < times; i++) {
    const kind = i % 2 === 0 ? 'node-disconnected' : 'node-connected';
    const f: Finding = { kind, at: Date.now(), origin: 'headscale', nodeId, nodeName: name, via: 'state', line: `${kind} ${name} #${i}` };
    app.ingest(f);
  }
}

describe('incident messages in the running app', () => {
  it('many nodes flapping at once are one incident for the Headscale server listing them, not one per node', async () => {
    const { app, slack } = await start();
    for (const [id, name] of [['1', 'nas'], ['2', 'laptop'], ['3', 'phone'], ['4', 'tv']] as const) flap(app, id, name);
    const post = await slack.waitFor(() => incidents(slack)[0], 20_000);
    await slack.waitFor(() => text(post.blocks).includes('tv (id 4)'), 20_000);
    expect(post.text).toMatch(/Incident #\d+ · Headscale server \(headscale\) · 4 nodes/);
    expect(text(post.blocks)).toContain('One incident for the server, not one per node');
    for (const n of ['nas (id 1)', 'laptop (id 2)', 'phone (id 3)', 'tv (id 4)']) expect(text(post.blocks)).toContain(n);
    // Nothing else was posted on its own: no node incident, no node-flapping alert message.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(slack.channelMessages(CHANNEL)).toHaveLength(1);
  }, 60_000);

  it('Silence 1h goes through the router: an operator silences the incident, the message says so and its thread stays quiet; others are refused', async () => {
    const { app, slack } = await start();
    flap(app, '7', 'nas');
    const post = await slack.waitFor(() => incidents(slack)[0], 20_000);
    const silence = buttons(post).find((b) => b.label === 'Silence 1h')!;
    expect(silence.actionId).toMatch(/^silence:\?action=add&target=incident%3A\d+&for=1h/);

    await slack.clickButton({ actionId: silence.actionId, messageTs: post.ts, userId: 'U0NOBODY', userName: 'nobody' });
    await slack.waitFor(() => slack.responses.some((r) => /silence alerts/.test(text(r.body))), 10_000);
    expect(app.dispatcher.silences.list()).toHaveLength(0);

    await slack.clickButton({ actionId: silence.actionId, messageTs: post.ts, userId: 'U0OPER', userName: 'oper' });
    await slack.waitFor(() => app.dispatcher.silences.list().length === 1, 10_000);
    expect(app.dispatcher.silences.list()[0]).toMatchObject({ matcher: 'fingerprint', value: expect.stringMatching(/^incident:\d+$/), createdBy: 'slack:U0OPER' });
    await slack.waitFor(() => text(post.blocks).includes('🔕 Silenced by slack:U0OPER'), 15_000);
    const audit = app.store.db.prepare(`SELECT * FROM audit_log WHERE command = 'silence'`).all();
    expect(text(audit)).toContain('button');

    // The flapping stops and the member clears: the message turns RESOLVED, but no thread line pings anyone.
    const before = slack.threadReplies(post.ts).length;
    await slack.waitFor(() => post.text.includes('RESOLVED'), 30_000);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(slack.threadReplies(post.ts)).toHaveLength(before);
    expect(incidents(slack)).toHaveLength(1);
  }, 60_000);

  it('/headscale incidents lists open incidents with their top cause', async () => {
    const { app, slack } = await start();
    flap(app, '7', 'nas');
    await slack.waitFor(() => incidents(slack)[0], 20_000);
    await slack.slashCommand({ text: 'incidents', userId: 'U0OPER', userName: 'oper' });
    const answer = await slack.waitFor(() => slack.responses.find((r) => text(r.body).includes('open incident')), 10_000);
    expect(text(answer.body)).toContain('1 open incident');
    expect(text(answer.body)).toContain('nas (id 7)');
    expect(text(answer.body)).toContain('no cause has evidence');
  }, 60_000);

  it('an incident decided before a restart but not yet posted is posted after it, once', async () => {
    const first = await start();
    flap(first.app, '7', 'nas');
    // Stopped within the group wait: the incident is in SQLite, its message not yet in the outbox.
    await first.app.stop();
    expect(incidents(first.slack)).toHaveLength(0);
    const second = await start(first.db, first.slack);
    const post = await second.slack.waitFor(() => incidents(second.slack)[0], 20_000);
    expect(post.text).toContain('nas (id 7)');
    await new Promise((r) => setTimeout(r, 3_000));
    expect(incidents(second.slack)).toHaveLength(1);
  }, 60_000);
});
