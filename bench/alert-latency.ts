import { createServer } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { createHeadwatch } from '../src/app.js';
import { createLogger } from '../src/log/logger.js';
import { ensureTestImage, fixtureEngine, TEST_IMAGE } from './images.js';

/**
 * Latency from a log line written inside a container to the alert arriving at a webhook. Uses an
 * `unsupported client connected` line (an immediate rule: one line is enough), with a new client version each
 * time so every line is a new alert. The line is written to the container's stdin and echoed by `cat`, so the
 * clock starts when the bytes leave this process.
 */
export async function benchAlertLatency(opts: { samples?: number } = {}): Promise<{ samples: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const samples = opts.samples ?? 60;
  const { docker, host } = fixtureEngine();
  await ensureTestImage(docker, host);
  const name = `hw-bench-lat-${process.pid}`;
  const arrivals = new Map<string, number>();
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const now = performance.now();
      try {
        for (const a of (JSON.parse(body) as { alerts: { subject: string; status: string }[] }).alerts) {
          if (a.status === 'firing' && !arrivals.has(a.subject)) arrivals.set(a.subject, now);
        }
      } catch {
        /* not ours */
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;

  try {
    await docker.getContainer(name).remove({ force: true });
  } catch {
    /* absent */
  }
  const container = await docker.createContainer({
    name,
    Image: TEST_IMAGE,
    Cmd: ['cat'],
    OpenStdin: true,
    StdinOnce: false,
    Tty: false,
    HostConfig: { NetworkMode: 'none' },
  });
  await container.start();
  const stdin = await container.attach({ stream: true, stdin: true, hijack: true });

  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-lat-'));
  const config = loadConfig({
    dotenvPath: false,
    env: { ...process.env, HEADSCALE_CONTAINER: name, TAILSCALE_CONTAINERS: 'none-such', HEADWATCH_DB: join(dir, 'hw.db'), HEADWATCH_HTTP_PORT: '0', HEADWATCH_WEBHOOK_URL: `http://127.0.0.1:${port}/`, HEADWATCH_CONSOLE: 'false', LOG_LEVEL: 'error' },
  });
  const app = await createHeadwatch({ config, logger: createLogger('error') });
  await app.start();
  await new Promise((r) => setTimeout(r, 1500)); // log stream attached

  const sent = new Map<string, number>();
  for (let i = 0; i < samples; i++) {
    const version = `1.${10 + i}.0`;
    const line = `{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:281","minimum_cap_ver":113,"client_cap_ver":${20 + i},"minimum_version":"v1.80","client_version":"v${version}","node.key":"[wZ9Nr]","machine.key":"[RoBrF]","time":1795681174,"message":"unsupported client connected"}\n`;
    sent.set(`client ${version}`, performance.now());
    stdin.write(line);
    // spaced wider than the dispatcher's console/webhook batch (200 ms): this measures one alert's path, not batching
    await new Promise((r) => setTimeout(r, 300));
  }
  const deadline = Date.now() + 10_000;
  while (arrivals.size < samples && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

  const lat = [...sent.entries()].filter(([k]) => arrivals.has(k)).map(([k, t]) => arrivals.get(k)! - t).sort((a, b) => a - b);
  await app.stop();
  stdin.end();
  await container.remove({ force: true });
  server.close();
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { samples: lat.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: lat[lat.length - 1] ?? NaN };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  benchAlertLatency().then((r) => console.log(JSON.stringify(r)));
}
