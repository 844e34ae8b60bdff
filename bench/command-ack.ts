import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { MessageRef, Responder } from '../src/adapters/chat.js';
import { CommandRouter } from '../src/interaction/router.js';
import { COMMANDS } from '../commands/index.js';
import { loadConfig } from '../src/config/load.js';
import { createLogger } from '../src/log/logger.js';
import { HeadscaleClient } from '../src/sources/headscale/client.js';
import { Store } from '../src/store/db.js';
import { startFakeHeadscale } from '../test/fakes/headscale/index.js';

/**
 * Slash command → acknowledgement while Headscale answers only after 5 s. Commands arrive every 10 ms (so
 * up to ~500 Headscale requests are hanging at once) as a mix of reads and approval requests; the figure is
 * the time from `onCommand` being called to the router calling `respond.ack`.
 */
export async function benchCommandAck(opts: { n?: number; delayMs?: number; spacingMs?: number } = {}): Promise<{ p50Ms: number; p99Ms: number; n: number }> {
  const n = opts.n ?? 300;
  const apiKey = 'hskey-api-benchbenchben-0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';
  const hs = await startFakeHeadscale({
    release: '0.29',
    apiKey,
    users: ['alice'],
    nodes: Array.from({ length: 50 }, (_, i) => ({ name: `node-${i}`, user: 'alice' })),
    delayMs: opts.delayMs ?? 5000,
  });
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-ack-'));
  const store = new Store(join(dir, 'headwatch.db'));
  const config = loadConfig({
    dotenvPath: false,
    env: { HEADSCALE_URL: hs.url, HEADSCALE_API_KEY: apiKey, HEADWATCH_OPERATORS: 'slack:UOP', HEADWATCH_APPROVERS: 'slack:UAP' },
  });
  const logger = createLogger('silent');
  const router = new CommandRouter({
    config,
    commands: COMMANDS,
    store,
    headscale: new HeadscaleClient({ url: hs.url, apiKey, timeoutMs: 15_000, logger }),
    docker: { watched: () => [], restart: async () => ({ startedAt: '' }), exec: async () => ({ exitCode: 0, stdout: '', stderr: '' }) },
    alerts: () => [],
    logger,
  });
  const inputs = ['nodes', 'status', 'nodes alice', 'delete-node node-3', 'help', 'create-key alice --expiration 2h'];
  const samples: number[] = [];
  const running: Promise<void>[] = [];
  let ref = 0;
  try {
    for (let i = 0; i < n; i++) {
      const text = inputs[i % inputs.length]!;
      const start = performance.now();
      const responder: Responder = {
        ack: async () => {
          samples.push(performance.now() - start);
        },
        replace: async () => {},
        private: async () => {},
        post: async (): Promise<MessageRef> => ({ platform: 'slack', channelId: 'C1', messageId: String(++ref) }),
      };
      running.push(router.onCommand({ platform: 'slack', userId: 'UOP', channelId: 'C1', subcommand: text.split(' ')[0]!, rawText: text.split(' ').slice(1).join(' ') }, responder));
      await new Promise((r) => setTimeout(r, opts.spacingMs ?? 10));
    }
    await Promise.all(running);
  } finally {
    await router.stop();
    store.close();
    await hs.close();
    rmSync(dir, { recursive: true, force: true });
  }
  samples.sort((a, b) => a - b);
  const q = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]!;
  return { p50Ms: q(0.5), p99Ms: q(0.99), n: samples.length };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await benchCommandAck();
  console.log(`slash command → ack with Headscale answering after 5 s: p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms (n=${r.n}); target p99 ≤ 300 ms`);
}
