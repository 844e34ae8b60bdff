import Docker from 'dockerode';
import { afterEach, expect, it } from 'vitest';
import { describeDocker, uniqueName, testDocker } from '../support/docker.js';
import { flapLines, printScript, startHeadwatch, stopAllHeadwatch } from './app-harness.js';
import { runContainer } from './helpers.js';

/**
 * End to end against the real engine: container output → Docker source → parsers → detectors → alerts →
 * signed webhook, as an operator would run headwatch.
 */
const docker = testDocker();
afterEach(stopAllHeadwatch);

describeDocker('headwatch end to end on a real engine', () => {
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
