import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createHeadwatch, type Headwatch } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import type { Finding } from '../../src/parsers/finding.js';
import type { Alert } from '../../src/alerts/model.js';
import { ConsoleDestination } from '../../src/destinations/console.js';

/**
 * The console as an operator watching a terminal sees it: the whole app (detectors, lifecycle, dispatcher,
 * outbox) with a driven clock, a node that flaps harder and then calms down.
 */
let app: Headwatch | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('console notifier', () => {
  it('prints every transition: firing, updated with what changed, resolved — three lines', async () => {
    const lines: string[] = [];
    const clock = { now: Date.parse('2026-11-26T10:00:00.000Z') };
    const config = loadConfig({
      dotenvPath: false,
      env: {
        DOCKER_HOST: `unix://${join(tmpdir(), 'no-such-docker.sock')}`,
        HEADWATCH_DB: join(mkdtempSync(join(tmpdir(), 'hw-console-')), 'hw.db'),
        FLAP_COUNT: '2',
        FLAP_WINDOW_SECONDS: '60',
      },
    });
    // The alert lines; each alert change of an incident member is followed by its incident's line when that changed.
    const printed: string[] = [];
    const incidentLines = () => printed.filter((l) => l.includes(' INCIDENT #'));
    app = await createHeadwatch({
      config,
      logger: createLogger('silent'),
      clock: () => clock.now,
      consoleOut: {
        write: (s: string) => {
          printed.push(s);
          if (!s.includes(' INCIDENT #')) lines.push(s);
        },
      },
    });
    let n = 0;
    const flap = async (times: number) => {
      for (let i = 0; i < times; i++) {
        const kind = i % 2 === 0 ? 'node-disconnected' : 'node-connected';
        const f: Finding = { kind, at: clock.now, origin: 'headscale', nodeId: '7', nodeName: 'laptop', via: 'state', line: `${kind} laptop #${++n}` };
        app!.ingest(f);
        clock.now += 1_000;
      }
      await app!.dispatcher.flush();
    };

    // 2 transitions: fires as warning
    await flap(2);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ FIRING +warning +node-flapping +laptop \(id 7\) — Node laptop \(id 7\) connected\/disconnected 2 times/);
    expect(incidentLines()).toEqual([expect.stringMatching(/ INCIDENT #1 OPENED \[OPEN\] laptop \(id 7\) — no cause has evidence; 1 of 1 alerts firing/)]);

    // 6 more within the detector's 10 s update spacing (no line), then one more: 9 transitions ≥ 3 × FLAP_COUNT, critical
    await flap(6);
    expect(lines).toHaveLength(1);
    clock.now += 10_000;
    await flap(1);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/ UPDATED +critical +node-flapping +laptop \(id 7\) — .* 9 times .*\[severity warning → critical; summary changed; \+\d evidence: node-/);

    // quiet for half the window: resolved, still critical as it was last seen
    clock.now += 31_000;
    app.engine.tick(clock.now);
    await app.dispatcher.flush();
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatch(/ RESOLVED critical +node-flapping +laptop \(id 7\) — Node laptop \(id 7\) is stable again/);
    expect(incidentLines()).toHaveLength(2);
    expect(incidentLines()[1]).toMatch(/ INCIDENT #1 RESOLVED \[RESOLVED\] laptop \(id 7\) — no cause has evidence; 0 of 1 alerts firing/);
    const transitions = await app.metrics.registry.getSingleMetricAsString('headwatch_alert_transitions_total');
    expect(transitions).toMatch(/change="updated"} 1/);
  });
});

const alert: Alert = {
  fingerprint: 'cpu-sustained:tailscale', kind: 'cpu-sustained', severity: 'warning', subject: 'tailscale', summary: 'CPU 97%',
  evidence: ['97%'], labels: { container: 'tailscale' }, status: 'firing', startsAt: '2026-11-26T10:00:00.000Z', updatedAt: '2026-11-26T10:00:00.000Z', endsAt: null, occurrences: 1,
};

describe('ConsoleDestination', () => {
  it('prints one readable line per alert event', async () => {
    const lines: string[] = [];
    await new ConsoleDestination({ write: (s: string) => lines.push(s) }).send([alert, { ...alert, status: 'resolved', endsAt: '2026-11-26T10:05:00.000Z', summary: 'CPU back\nto 3%' }]);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^2026-11-26T10:00:00.000Z FIRING +warning +cpu-sustained +tailscale — CPU 97% \[next: .*map-response storm.*\(\/headscale alerts\)\]\n$/);
    expect(lines[1]).toMatch(/RESOLVED .* CPU back to 3%\n$/);
  });
});
