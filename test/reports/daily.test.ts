import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlappingDetector } from '../../src/detectors/flapping.js';
import { ActivityRecorder } from '../../src/history/activity.js';
import { CpuHistory } from '../../src/history/cpu.js';
import type { Message } from '../../src/messages/model.js';
import { buildDailyReport, type DailyReportSources } from '../../src/reports/daily.js';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { NEWEST_KNOWN_RELEASE } from '../../src/sources/headscale/releases.js';
import { ActivityCounts } from '../../src/store/activity.js';
import { CpuMinutes } from '../../src/store/cpu-minutes.js';
import { Store } from '../../src/store/db.js';
import { startFakeHeadscale, type FakeHeadscale } from '../fakes/headscale/index.js';
import { pngSize } from '../support/png.js';

const KEY = 'hskey-api-report-test';
const DAY = 86_400_000;

function text(m: Message): string {
  return m.blocks
    .map((b) => {
      switch (b.type) {
        case 'fields':
          return b.fields.map((f) => `${f.label}: ${f.value}`).join('\n');
        case 'table':
          return [b.columns.join(' | '), ...b.rows.map((r) => r.join(' | '))].join('\n');
        case 'buttons':
          return b.buttons.map((x) => x.label).join(' ');
        default:
          return b.text;
      }
    })
    .join('\n');
}

describe('daily report', () => {
  let fake: FakeHeadscale;
  let store: Store;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    fake = await startFakeHeadscale({
      release: '0.28',
      apiKey: KEY,
      nodes: [
        { name: 'nas', user: 'alice', online: true },
        { name: 'laptop', user: 'alice', online: false },
        { name: 'old-phone', user: 'bob', online: false, expiry: iso(now - DAY) },
        { name: 'router', user: 'bob', online: true, expiry: iso(now + 3 * DAY) },
      ],
    });
    store = new Store(join(mkdtempSync(join(tmpdir(), 'hw-daily-')), 'hw.db'));
  });
  afterAll(async () => {
    store.close();
    await fake.close();
  });

  it('tells nodes, flapping, alerts, expiring keys, the version and CPU peaks with a chart', async () => {
    const client = new HeadscaleClient({ url: fake.url, apiKey: KEY, timeoutMs: 2000 });
    await client.createPreAuthKey({ user: 'alice', reusable: true, ephemeral: false, expiration: new Date(now + 2 * DAY), tags: [] });
    await client.createPreAuthKey({ user: 'bob', reusable: false, ephemeral: false, expiration: new Date(now + 30 * DAY), tags: [] });
    const used = await client.createPreAuthKey({ user: 'bob', reusable: false, ephemeral: false, expiration: new Date(now + DAY), tags: [] });
    fake.state.preAuthKeys.find((k) => k.id === used.id)!.used = true;

    const activity = new ActivityCounts(store);
    const minutes = new CpuMinutes(store);
    const recorder = new ActivityRecorder(activity);
    const cpu = new CpuHistory({ minutes });
    // The flapping detector tells the recorder each counted transition: log and API sightings of one change count once.
    const flapping = new FlappingDetector({ count: 100, windowMs: 600_000, onTransitions: (id, name, at, n) => recorder.nodeTransitions(id, name, at, n) });
    const t0 = now - 3 * 3_600_000;
    for (let i = 0; i < 8; i++) {
      const kind = i % 2 === 0 ? 'node-disconnected' : 'node-connected';
      flapping.observe({ kind, at: t0 + i * 60_000, origin: 'headscale', nodeId: '2', nodeName: 'laptop', via: 'state' });
      flapping.observe({ kind, at: t0 + i * 60_000 + 5, origin: 'headscale', nodeId: '2', nodeName: 'laptop', via: 'poll' });
    }
    flapping.observe({ kind: 'node-disconnected', at: t0, origin: 'headscale', nodeId: '1', nodeName: 'nas', via: 'state' });
    flapping.observe({ kind: 'node-connected', at: t0 + 1000, origin: 'headscale', nodeId: '1', nodeName: 'nas', via: 'state' });
    for (let i = 0; i < 3; i++) recorder.observe({ kind: 'container-state', state: 'die', at: t0 + i * 1000, origin: 'tailscale-a', containerId: 'c1' });
    const alert = (change: 'firing' | 'resolved', kind: 'cpu-sustained' | 'node-flapping') =>
      recorder.alertTransition({ change, at: t0, alert: { kind } as never });
    alert('firing', 'cpu-sustained');
    alert('firing', 'node-flapping');
    alert('firing', 'node-flapping');
    alert('resolved', 'node-flapping');
    for (let i = 0; i < 120; i++) {
      cpu.observe({ kind: 'cpu-sample', at: t0 + i * 10_000, origin: 'headscale', percent: i === 60 ? 97.5 : 30, cpus: 2 });
      cpu.observe({ kind: 'cpu-sample', at: t0 + i * 10_000, origin: 'tailscale-a', percent: 12, cpus: 0.5 });
    }

    const sources: DailyReportSources = {
      tailnet: 'hs.example.net',
      timeZone: 'UTC',
      cpuThresholdPercent: 80,
      flush: () => {
        recorder.flush();
        cpu.flush(now, true);
      },
      nodes: () => client.listNodes(),
      preAuthKeys: () => client.listPreAuthKeys(),
      server: () => client.serverInfo(),
      activity,
      cpu: minutes,
      incidents: false,
    };
    const r = await buildDailyReport(sources, now);
    const body = text(r.message);
    expect(body).toMatch(/^Daily report · hs\.example\.net · \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(body).toContain('Nodes online: 2');
    expect(body).toContain('Offline: 1');
    expect(body).toContain('Key expired: 1');
    expect(body).toContain('Offline: laptop');
    expect(body).toContain('Key expired: old-phone');
    expect(body).toContain('node | laptop | 8 connect/disconnect');
    expect(body).toContain('node | nas | 2 connect/disconnect');
    expect(body.indexOf('laptop | 8')).toBeLessThan(body.indexOf('nas | 2'));
    expect(body).toContain('container | tailscale-a | 3 deaths');
    expect(body).toContain('Alerts fired: 3');
    expect(body).toContain('Alerts resolved: 1');
    expect(body).toContain('node-flapping ×2, cpu-sustained ×1');
    expect(body).not.toContain('Incidents');
    expect(body).toMatch(/node router \(bob\): key expires/);
    expect(body).toMatch(/pre-auth key \d+ \(alice\), reusable: expires/);
    expect(body).not.toMatch(/pre-auth key \d+ \(bob\)/); // one expires in 30 days, the other is used up
    expect(body).toContain(`Headscale*: 0.28.0; ${NEWEST_KNOWN_RELEASE} is available`);
    expect(body).toMatch(/headscale \| 97\.5 % ⚠ \| .* \| 3[0-9]\.\d %/);
    expect(body).toContain('tailscale-a | 12.0 %');
    expect(body.indexOf('headscale | 97.5')).toBeLessThan(body.indexOf('tailscale-a | 12.0'));

    const [chart] = r.message.images ?? [];
    expect(chart?.title).toBe('CPU peaks, last 24 h');
    expect(pngSize(Buffer.from(chart!.pngBase64, 'base64'))).toEqual({ width: 900, height: 340 });
    expect(chart!.altText).toContain('headscale: ');
    expect(chart!.altText).toContain('peak 97.5 %');
  });

  it('still reports when Headscale is unreachable, saying what could not be read', async () => {
    const client = new HeadscaleClient({ url: 'http://127.0.0.1:9', apiKey: KEY, timeoutMs: 500 });
    const r = await buildDailyReport(
      {
        tailnet: 'hs.example.net',
        timeZone: 'Europe/Berlin',
        cpuThresholdPercent: 80,
        flush: () => undefined,
        nodes: () => client.listNodes(),
        preAuthKeys: () => client.listPreAuthKeys(),
        server: async () => undefined,
        activity: new ActivityCounts(store),
        cpu: new CpuMinutes(store),
        incidents: true,
      },
      now + 30 * DAY,
    );
    const body = text(r.message);
    expect(body).toMatch(/Nodes\*: could not read the node list \(.*127\.0\.0\.1:9.*\)/);
    expect(body).toContain('pre-auth keys could not be read');
    expect(body).toContain(`version unknown; newest release headwatch knows: ${NEWEST_KNOWN_RELEASE}`);
    expect(body).toContain('Incidents opened: 0');
    expect(body).toContain('no CPU samples in the last 24 h');
    expect(body).toMatch(/ CET|GMT\+1|CEST/);
    expect(r.message.images).toBeUndefined();
  });
});
