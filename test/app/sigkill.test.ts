import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/store/audit.js';
import { Store } from '../../src/store/db.js';
import { FakeSlack, postSigned, signRequest } from '../fakes/slack/server.js';
import { startFakeHeadscale, type FakeHeadscale } from '../fakes/headscale/index.js';
import { API_KEY } from '../interaction/harness.js';
import { freePort, until as waitUntil } from '../support/wait.js';

/**
 * Issue 8, with a real crash: headwatch runs as a child process (`node --import tsx src/main.ts`, as `npm start`)
 * and is killed with SIGKILL, then started again over the same SQLite file. Slack (HTTP mode) and Headscale are
 * the protocol fakes in this process.
 */
const BOT = 'xoxb-sigkill-bot';
const SECRET = 'sigkill-signing-secret';
const CHANNEL = 'C0ALERTS';
const ROOT = resolve(import.meta.dirname, '../..');

let children: ChildProcess[] = [];
let fake: FakeSlack | undefined;
let hs: FakeHeadscale | undefined;
let dir: string | undefined;
afterEach(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children = [];
  await fake?.stop();
  await hs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// This file's own pace: polls every 25 ms, gives up after 20_000 ms unless told otherwise.
const until = <T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> =>
  waitUntil(what, fn, timeoutMs, 25);

/** Starts headwatch as its own process and waits until /healthz answers. */
async function startHeadwatch(env: Record<string, string>): Promise<{ child: ChildProcess; base: string; stderr: string[] }> {
  const port = await freePort();
  const stderr: string[] = [];
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DB: join(dir!, 'headwatch.db'),
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_HTTP_PORT: String(port),
      HEADWATCH_CONSOLE: 'false',
      HEADSCALE_URL: hs!.url,
      HEADSCALE_API_KEY: API_KEY,
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_CHANNEL: CHANNEL,
      SLACK_API_URL: fake!.apiUrl,
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString('utf8')));
  const base = `http://127.0.0.1:${port}`;
  await until(
    'headwatch to answer /healthz',
    async () => {
      if (child.exitCode !== null) throw new Error(`headwatch exited (${child.exitCode}): ${stderr.join('')}`);
      return (await fetch(`${base}/healthz`).catch(() => undefined))?.ok;
    },
    60_000,
  );
  return { child, base, stderr };
}

async function sigkill(child: ChildProcess): Promise<void> {
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

function buttons(blocks: unknown[]): { label: string; actionId: string }[] {
  return (blocks as { type: string; elements?: { action_id: string; text: { text: string } }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements ?? [])
    .map((e) => ({ label: e.text.text, actionId: e.action_id }));
}

describe('headwatch killed with SIGKILL and started again', () => {
  it('delete-node killed after the DELETE reached Headscale: the card ends DONE, completed (verified after restart)', { timeout: 180_000 }, async () => {
    fake = new FakeSlack({ botToken: BOT });
    await fake.start();
    hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice'], nodes: [{ name: 'laptop', user: 'alice' }, { name: 'phone', user: 'alice' }] });
    dir = mkdtempSync(join(tmpdir(), 'hw-sigkill-'));
    const env = { HEADWATCH_OPERATORS: 'slack:U0ALICE', HEADWATCH_APPROVERS: 'slack:U0BOB' };
    const first = await startHeadwatch(env);

    const events = `${first.base}/slack/events`;
    expect((await postSigned(events, signRequest(SECRET, fake.slashCommandPayload({ text: 'delete-node 1', userId: 'U0ALICE', userName: 'alice', channelId: 'C0OPS' })))).status).toBe(200);
    const card = await until('the approval card', () => fake!.channelMessages('C0OPS').find((m) => buttons(m.blocks).length === 2));
    hs.withholdAnswers('DELETE', '/api/v1/node/1');
    const approve = buttons(card.blocks).find((b) => b.label === 'Approve')!.actionId;
    const click = signRequest(SECRET, { payload: JSON.stringify(fake.buttonPayload({ actionId: approve, messageTs: card.ts, userId: 'U0BOB', userName: 'bob' })) });
    expect((await postSigned(events, click)).status).toBe(200);
    await until('the DELETE to reach Headscale', () => hs!.requestsTo('DELETE', '/api/v1/node/1').length === 1);
    await sigkill(first.child);
    expect(card.text).toContain('RUNNING:');
    expect(hs.state.nodes.map((n) => n.name)).toEqual(['phone']);

    await startHeadwatch(env);
    await until('the card to be redrawn', () => card.text.includes('DONE:'));
    expect(card.text).toContain('completed (verified after restart): node 1 (laptop, user alice) is no longer in Headscale');
    expect(hs.requestsTo('DELETE', '/api/v1/node/1')).toHaveLength(1);
    const store = new Store(join(dir, 'headwatch.db'));
    try {
      const rows = new AuditLog(store).last(100).reverse();
      expect(rows.filter((r) => r.event === 'verified').map((r) => r.detail['outcome'])).toEqual(['completed']);
      expect(rows.filter((r) => r.event === 'executing')).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('Slack failing (500s, 429 Retry-After, dropped connections) with a SIGKILL in the middle: every alert within 10 s of recovery, once, in order', async () => {
    fake = new FakeSlack({ botToken: BOT });
    await fake.start();
    hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice'], nodes: [{ name: 'seed', user: 'alice' }] });
    dir = mkdtempSync(join(tmpdir(), 'hw-sigkill-'));
    const env = { HEADSCALE_POLL_SECONDS: '1', HEADWATCH_GROUP_WAIT: '1s', HEADWATCH_GROUP_INTERVAL: '2s', HEADWATCH_CHANNEL_BUDGET: '100' };
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const polls = () => hs!.requestsTo('GET', '/api/v1/node').length;
    const added: string[] = [];
    const add = (name: string) => {
      hs!.addNode({ name, user: 'alice' });
      added.push(name);
    };
    // Each phase lasts until headwatch has really met that fault (wall-clock phases are at the mercy of load).
    // Delivery calls only (a post, or the look-up for an earlier copy that precedes a re-post), not auth.test.
    const hits = (kind: string) => fake!.calls.filter((c) => c.fault === kind && c.method !== 'auth.test').length;
    const posts = (kind: string, n = 1) => until(`a delivery answered with ${kind}`, () => hits(kind) >= n, 30_000);
    /** Two more polls after a node joined: the poller has seen it and its alert is recorded in SQLite. */
    const seen = async () => {
      const p = polls();
      await until('two more node lists', () => polls() >= p + 2, 30_000);
    };
    fake.fail({ kind: 'status', status: 500, times: 1_000_000 });
    const first = await startHeadwatch(env);
    await until('the first node list', () => polls() > 0, 30_000);
    add('joiner-1');
    await seen();
    await posts('status');
    add('joiner-2');
    await sleep(3000);
    fake.heal();
    fake.fail({ kind: 'ratelimit', retryAfterSec: 3, times: 1_000_000 });
    add('joiner-3');
    await seen();
    await posts('ratelimit');
    // The alerts so far are queued in SQLite; the process dies without any shutdown.
    await sigkill(first.child);
    fake.heal();
    fake.fail({ kind: 'drop', when: 'before', times: 1_000_000 });
    const before = polls();
    await startHeadwatch(env);
    await until('the restarted poller', () => polls() > before, 30_000);
    add('joiner-4');
    await seen();
    await posts('drop', 2);
    await sleep(3000);
    expect(fake.channelMessages(CHANNEL)).toHaveLength(0);
    fake.heal();
    const recovered = Date.now();
    const subjects = () => fake!.channelMessages(CHANNEL).map((m) => /joiner-\d/.exec(m.text)?.[0]).filter(Boolean);
    await until('every queued alert in Slack', () => subjects().length >= 4, 20_000);
    const delayMs = Date.now() - recovered;
    await new Promise((r) => setTimeout(r, 1500)); // a duplicate would have arrived by now
    expect(subjects()).toEqual(added);
    expect(delayMs).toBeLessThanOrEqual(10_000);
    const faults = new Set(fake.calls.filter((c) => c.fault).map((c) => c.fault));
    expect(faults).toEqual(new Set(['status', 'ratelimit', 'drop']));
  }, 180_000);
});
