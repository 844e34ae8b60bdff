import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterEach, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { describeDocker, removeContainer, uniqueName } from '../support/docker.js';
import { WebhookReceiver } from '../support/webhook-receiver.js';
import { runContainer } from './helpers.js';

/**
 * End to end against the real engine: container output → Docker source → parsers → detectors → alerts →
 * signed webhook, as an operator would run headwatch.
 */
const docker = new Docker();
const SECRET = 'test-webhook-secret-0123456789';

interface Running {
  app: Headwatch;
  hook: WebhookReceiver;
  dir: string;
  containers: string[];
}
let running: Running[] = [];

afterEach(async () => {
  for (const r of running) {
    await r.app.stop();
    await r.hook.close();
    await Promise.all(r.containers.map((n) => removeContainer(docker, n)));
    rmSync(r.dir, { recursive: true, force: true });
  }
  running = [];
});

async function startHeadwatch(env: Record<string, string>, containers: string[]): Promise<Running> {
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
function printScript(lines: { text: string; stderr?: boolean }[], then = 'sleep 1d'): string[] {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return ['sh', '-c', [...lines.map((l) => `printf '%s\\n' ${q(l.text)}${l.stderr ? ' >&2' : ''}`), then].join('; ')];
}

/**
 * Headscale 0.29 connect/disconnect lines (reference §12) for one node, alternating JSON (stdout) and text
 * (stderr): 2 transitions per cycle, so FLAP_COUNT 12 over 8 cycles is reached only if both streams are read.
 */
function flapLines(nodeId: number, node: string, cycles: number): { text: string; stderr?: boolean }[] {
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

describeDocker('headwatch end to end on a real engine', () => {
  it('alerts on sustained CPU of a busy "tailscale" container and resolves when the loop stops', async () => {
    const ts = uniqueName('tailscale');
    const sustain = 5;
    const { app, hook } = await startHeadwatch(
      {
        HEADSCALE_CONTAINER: uniqueName('no-headscale'),
        TAILSCALE_CONTAINERS: ts,
        CPU_SAMPLE_SECONDS: '1',
        CPU_SUSTAIN_SECONDS: String(sustain),
        CPU_THRESHOLD_PERCENT: '50',
        CPU_CLEAR_MARGIN_PERCENT: '10',
      },
      [ts],
    );
    // Busy until /tmp/stop exists, then idle: the same container goes hot and cool again.
    await runContainer(docker, { name: ts, cmd: ['sh', '-c', 'while [ ! -f /tmp/stop ]; do :; done; exec sleep 1d'] });
    const fired = await hook.waitForAlert('cpu-sustained firing', (a) => a.kind === 'cpu-sustained' && a.status === 'firing', (sustain + 8) * 1000);
    expect(fired).toMatchObject({ subject: ts, signatureValid: true });
    expect(fired.summary).toContain(ts);
    expect(fired.evidence.length).toBeGreaterThan(0);

    await expect(app.docker.exec(ts, ['sh', '-c', ': > /tmp/stop'])).resolves.toMatchObject({ exitCode: 0 });
    const resolved = await hook.waitForAlert('cpu-sustained resolved', (a) => a.kind === 'cpu-sustained' && a.status === 'resolved', 25_000);
    expect(resolved).toMatchObject({ subject: ts, fingerprint: fired.fingerprint, signatureValid: true });
    expect(resolved.endsAt).not.toBeNull();
  });

  it('raises exactly one node-flapping alert for a node whose connect/disconnect lines (JSON and text) flood in', async () => {
    const hs = uniqueName('headscale');
    const node = `flappy-${Math.random().toString(36).slice(2, 8)}`;
    const { hook } = await startHeadwatch({ HEADSCALE_CONTAINER: hs, TAILSCALE_CONTAINERS: uniqueName('none'), FLAP_COUNT: '12', FLAP_WINDOW_SECONDS: '60' }, [hs]);
    await runContainer(docker, { name: hs, cmd: printScript(flapLines(7, node, 8)) });
    const alert = await hook.waitForAlert('node-flapping firing', (a) => a.kind === 'node-flapping' && a.status === 'firing');
    expect(alert.subject).toContain(node);
    expect(alert.signatureValid).toBe(true);
    await new Promise((r) => setTimeout(r, 1500)); // anything else would have arrived by now
    const flapping = hook.alerts().filter((a) => a.kind === 'node-flapping');
    expect(new Set(flapping.map((a) => a.fingerprint)).size).toBe(1);
    expect(flapping.every((a) => a.subject.includes(node) && a.signatureValid)).toBe(true);
    expect(hook.posts.every((p) => p.signatureValid)).toBe(true);
  });

  it('raises a ratelimit-flood alert for repeated [RATELIMIT] lines with a rising dropped count', async () => {
    const ts = uniqueName('tailscale');
    const { hook } = await startHeadwatch({ HEADSCALE_CONTAINER: uniqueName('no-headscale'), TAILSCALE_CONTAINERS: ts, RATELIMIT_COUNT: '3', RATELIMIT_WINDOW_SECONDS: '60' }, [ts]);
    const lines = [1, 2, 3, 4, 5].map((i) => ({ text: `2025/03/17 15:05:${String(30 + i * 2)} [RATELIMIT] format("control: [v\\x00JSON]%d%s") (${i * 17} dropped)`, stderr: true }));
    await runContainer(docker, { name: ts, cmd: printScript(lines) });
    const alert = await hook.waitForAlert('ratelimit-flood firing', (a) => a.kind === 'ratelimit-flood' && a.status === 'firing');
    expect(alert).toMatchObject({ subject: ts, signatureValid: true });
    expect(alert.summary).toContain('control: [v');
  });

  it('keeps following a container that is removed and recreated under the same name', async () => {
    const hs = uniqueName('headscale');
    const { app, hook } = await startHeadwatch({ HEADSCALE_CONTAINER: hs, TAILSCALE_CONTAINERS: uniqueName('none'), FLAP_COUNT: '12', FLAP_WINDOW_SECONDS: '60' }, [hs]);
    const first = await runContainer(docker, { name: hs, cmd: printScript([{ text: '{"level":"info","version":"0.29.2","commit":"abc1234","time":1795681411,"message":"starting headscale"}' }]) });
    await waitUntil(() => app.docker.watched().some((c) => c.id === first.id));
    await first.remove({ force: true });
    await waitUntil(() => app.docker.watched().length === 0);

    const node = `reborn-${Math.random().toString(36).slice(2, 8)}`;
    const second = await runContainer(docker, { name: hs, cmd: printScript(flapLines(9, node, 8)) });
    const alert = await hook.waitForAlert('node-flapping from the recreated container', (a) => a.kind === 'node-flapping' && a.subject.includes(node));
    expect(alert.signatureValid).toBe(true);
    expect(app.docker.watched()).toMatchObject([{ name: hs, id: second.id, role: 'headscale', running: true }]);
  });
});

async function waitUntil(fn: () => boolean, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!fn()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
