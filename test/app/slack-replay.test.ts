import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { FakeSlack, postSigned, signRequest } from '../fakes/slack/server.js';
import { startFakeHeadscale, type FakeHeadscale } from '../fakes/headscale/index.js';
import { API_KEY } from '../interaction/harness.js';

/**
 * Issue 8 (3): Slack HTTP mode, the whole app. A correctly signed request captured on the wire and sent again
 * after a restart (within Slack's 5-minute window) must be refused, and ssl_check must be signed too.
 */
const BOT = 'xoxb-replay-bot';
const SECRET = 'replay-signing-secret';
let app: Headwatch | undefined;
let fake: FakeSlack | undefined;
let hs: FakeHeadscale | undefined;
let dir: string | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
  await fake?.stop();
  await hs?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function start(db: string): Promise<{ app: Headwatch; url: string }> {
  const config = loadConfig({
    dotenvPath: false,
    env: {
      DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
      HEADWATCH_DB: db,
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_CONSOLE: 'false',
      HEADSCALE_URL: hs!.url,
      HEADSCALE_API_KEY: API_KEY,
      SLACK_BOT_TOKEN: BOT,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_CHANNEL: 'C0ALERTS',
      SLACK_API_URL: fake!.apiUrl,
      HEADWATCH_OPERATORS: 'slack:U0ALICE',
      HEADWATCH_APPROVERS: 'slack:U0BOB',
    },
  });
  const a = await createHeadwatch({ config, logger: createLogger('silent') });
  app = a;
  await a.start();
  return { app: a, url: `http://127.0.0.1:${a.httpPort}/slack/events` };
}

const approvals = (a: Headwatch) => a.router.approvals.pending().length;

describe('Slack HTTP mode across a restart', () => {
  it('refuses a captured signed request replayed after a restart (401, nothing created); ssl_check needs a signature', async () => {
    fake = new FakeSlack({ botToken: BOT });
    await fake.start();
    hs = await startFakeHeadscale({ release: '0.29', apiKey: API_KEY, users: ['alice'], nodes: [{ name: 'laptop', user: 'alice' }] });
    dir = mkdtempSync(join(tmpdir(), 'hw-replay-'));
    const db = join(dir, 'headwatch.db');

    const first = await start(db);
    const captured = signRequest(SECRET, fake.slashCommandPayload({ text: 'delete-node 1', userId: 'U0ALICE', userName: 'alice' }));
    expect((await postSigned(first.url, captured)).status).toBe(200);
    await fake.waitFor(() => fake!.channelMessages().some((m) => m.text.includes('delete node 1')));
    expect(approvals(first.app)).toBe(1);
    // Sent again before the restart: refused as well.
    expect((await postSigned(first.url, captured)).status).toBe(401);
    await first.app.stop();
    app = undefined;

    const second = await start(db);
    const replay = await postSigned(second.url, captured);
    expect(replay.status).toBe(401);
    expect(replay.body).toBe('');
    await new Promise((r) => setTimeout(r, 300));
    expect(approvals(second.app)).toBe(1);
    expect(fake.channelMessages().filter((m) => m.text.includes('delete node 1'))).toHaveLength(1);
    expect(second.app.router.audit.last(50).filter((r) => r.event === 'requested')).toHaveLength(1);

    // A fresh request (new signature) is still accepted after the restart.
    const fresh = signRequest(SECRET, fake.slashCommandPayload({ text: 'help', userId: 'U0ALICE' }));
    expect((await postSigned(second.url, fresh)).status).toBe(200);

    // ssl_check: unsigned → 401; signed → 200.
    const unsigned = await fetch(second.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'ssl_check=1&token=x' });
    expect(unsigned.status).toBe(401);
    expect((await postSigned(second.url, signRequest(SECRET, { ssl_check: '1', token: 'x' }))).status).toBe(200);
  });
});
