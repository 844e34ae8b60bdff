import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { removeContainer, testDocker } from '../support/docker.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';

/** Runs the whole app (createHeadwatch) against the test engine, alerting to a signed local webhook receiver. */
const docker = testDocker();
export const SECRET = 'test-webhook-secret-0123456789';

export interface Running {
  app: Headwatch;
  hook: WebhookReceiver;
  dir: string;
  containers: string[];
}
let running: Running[] = [];

/** Stops every headwatch started by startHeadwatch and removes its containers; call from afterEach. */
export async function stopAllHeadwatch(): Promise<void> {
  const all = running;
  running = [];
  const failures: unknown[] = [];
  for (const r of all) {
    // Containers and files go away even when stopping the app fails; the failure is still reported.
    try {
      await r.app.stop();
    } catch (err) {
      failures.push(err);
    } finally {
      await r.hook.close();
      await Promise.all(r.containers.map((n) => removeContainer(docker, n)));
      rmSync(r.dir, { recursive: true, force: true });
    }
  }
  if (failures.length > 0) throw failures[0];
}

export async function startHeadwatch(env: Record<string, string>, containers: string[]): Promise<Running> {
  const hook = await WebhookReceiver.start({ secret: SECRET });
  const dir = mkdtempSync(join(tmpdir(), 'hw-app-'));
  const config = loadConfig({
    dotenvPath: false,
    env: {
      ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}),
      HEADWATCH_DB: join(dir, 'headwatch.db'),
      HEADWATCH_HTTP_HOST: '127.0.0.1',
      HEADWATCH_HTTP_PORT: '0',
      HEADWATCH_WEBHOOK_URL: hook.url,
      HEADWATCH_WEBHOOK_SECRET: SECRET,
      HEADWATCH_CONSOLE: 'false',
      LOG_LEVEL: 'silent',
      ...env,
    },
  });
  const app = await createHeadwatch({ config, logger: createLogger('silent') });
  const r = { app, hook, dir, containers };
  running.push(r);
  await app.start();
  return r;
}

/** `sh -c` script printing each line verbatim (printf %s interprets nothing), to stderr where asked. */
export function printScript(lines: { text: string; stderr?: boolean }[], then = 'sleep 1d'): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ['sh', '-c', [...lines.map((l) => `printf '%s\\n' ${q(l.text)}${l.stderr ? ' >&2' : ''}`), then].join('; ')];
}

/**
 * Headscale 0.29 connect/disconnect lines (reference §12) for one node, alternating JSON (stdout) and text
 * (stderr): 2 transitions per cycle, so FLAP_COUNT 12 over 8 cycles is reached only if both streams are read.
 */
export function flapLines(nodeId: number, node: string, cycles: number): { text: string; stderr?: boolean }[] {
  const out: { text: string; stderr?: boolean }[] = [];
  const keys = `"machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false`;
  const caller = 'home/runner/work/headscale/headscale/hscontrol';
  for (let i = 0; i < cycles; i++) {
    const chan = `0xc0000b4${(0x100 + i).toString(16)}`;
    if (i % 2 === 0) {
      out.push(
        { text: `{"level":"info","node.id":${nodeId},"node.name":"${node}",${keys},"node.online":true,"user.name":"alice","time":1795681174,"message":"node connected"}` },
        { text: `{"level":"info","component":"poll","node.id":${nodeId},"node.name":"${node}",${keys},"node.online":false,"user.name":"alice","omit_peers":false,"stream":true,"caller":"/${caller}/poll.go:251","chan":"${chan}","time":1795681174,"message":"node has connected"}` },
        { text: `{"level":"info","node.id":${nodeId},"node.name":"${node}",${keys},"node.online":false,"user.name":"alice","time":1795681175,"message":"node disconnected"}` },
        { text: `{"level":"info","component":"poll","node.id":${nodeId},"node.name":"${node}",${keys},"node.online":false,"user.name":"alice","omit_peers":false,"stream":true,"caller":"/${caller}/poll.go:211","chan":"${chan}","time":1795681175,"message":"node has disconnected"}` },
      );
    } else {
      const fields = `machine.key=[RoBrF] node.expired=false node.id=${nodeId} node.is_tagged=false node.key=[wZ9Nr] node.name=${node}`;
      out.push(
        { stderr: true, text: `2026-11-26T08:19:34Z INF node connected ${fields} node.online=true user.name=alice` },
        { stderr: true, text: `2026-11-26T08:19:34Z INF ${caller}/poll.go:251 > node has connected chan=${chan} component=poll ${fields} node.online=false omit_peers=false stream=true user.name=alice` },
        { stderr: true, text: `2026-11-26T08:19:35Z INF node disconnected ${fields} node.online=false user.name=alice` },
        { stderr: true, text: `2026-11-26T08:19:35Z INF ${caller}/poll.go:211 > node has disconnected chan=${chan} component=poll ${fields} node.online=false omit_peers=false stream=true user.name=alice` },
      );
    }
  }
  return out;
}

