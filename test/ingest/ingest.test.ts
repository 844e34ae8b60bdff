import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Ingest } from '../../src/ingest/ingest.js';
import { Metrics } from '../../src/http/metrics.js';
import type { Finding } from '../../src/parsers/finding.js';
import type { WatchedContainer } from '../../src/sources/docker/types.js';

const headscale: WatchedContainer = { name: 'headscale', id: 'h1', image: 'headscale/headscale:0.29', role: 'headscale', running: true };
const tailscale: WatchedContainer = { name: 'ts-nas', id: 't1', image: 'tailscale/tailscale:v1.80', role: 'tailscale', running: true };
const NO_UPGRADE =
  '{"level":"warn","time":1795681174,"message":"no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through."}';
const RATELIMIT = '2025/03/17 15:05:32 [RATELIMIT] format("control: [v\\x00JSON]%d%s")';

function rig() {
  const metrics = new Metrics({ processMetrics: false });
  const seen: Finding[] = [];
  const ingest = new Ingest({ sink: { ingest: (f) => seen.push(f) }, metrics, logger: pino({ level: 'silent' }), clock: () => 1_000 });
  const lines = async () => (await metrics.registry.getSingleMetricAsString('headwatch_log_lines_total')).split('\n').filter((l) => !l.startsWith('#'));
  return { metrics, seen, ingest, lines };
}

describe('Ingest: the one path from sources to the alert engine', () => {
  it('reads each container with its own parser and hands the findings on, named after the container', () => {
    const { ingest, seen } = rig();
    ingest.line(headscale, NO_UPGRADE, 500);
    ingest.line(tailscale, RATELIMIT, 600);
    // the same RATELIMIT line from the Headscale container is not a Tailscale finding
    ingest.line(headscale, RATELIMIT, 700);
    expect(seen.map((f) => [f.kind, f.origin, f.at])).toEqual([
      ['proxy-no-upgrade', 'headscale', 500],
      ['ratelimit', 'ts-nas', 600],
    ]);
  });

  it('counts every line by role and result: parsed, unknown and skipped', async () => {
    const { ingest, lines } = rig();
    ingest.line(headscale, NO_UPGRADE, 1);
    ingest.line(headscale, 'just some chatter', 2);
    ingest.line(tailscale, RATELIMIT, 3);
    ingest.skipped(tailscale, 'oversize');
    ingest.skipped(tailscale, 'binary');
    expect(await lines()).toEqual(
      expect.arrayContaining([
        'headwatch_log_lines_total{source="headscale",result="parsed"} 1',
        'headwatch_log_lines_total{source="headscale",result="unknown"} 1',
        'headwatch_log_lines_total{source="tailscale",result="parsed"} 1',
        'headwatch_log_lines_total{source="tailscale",result="skipped"} 2',
      ]),
    );
  });

  it('passes source findings through, and shows every finding to taps after the engine', () => {
    const { ingest, seen } = rig();
    const tapped: string[] = [];
    ingest.tap((f) => tapped.push(`${f.kind}@${seen.length}`));
    ingest.finding({ kind: 'container-state', at: 5, origin: 'ts-nas', state: 'start', containerId: 't1' });
    ingest.line(headscale, NO_UPGRADE, 6);
    expect(seen.map((f) => f.kind)).toEqual(['container-state', 'proxy-no-upgrade']);
    // the engine had the finding before the tap saw it
    expect(tapped).toEqual(['container-state@1', 'proxy-no-upgrade@2']);
  });

  it('turns the Docker engine status into the up gauge and a docker-status finding', async () => {
    const { ingest, seen, metrics } = rig();
    ingest.dockerStatus({ reachable: false, error: 'connect ECONNREFUSED /var/run/docker.sock' });
    expect(await metrics.registry.getSingleMetricAsString('headwatch_dependency_up')).toContain('headwatch_dependency_up{dependency="docker"} 0');
    ingest.dockerStatus({ reachable: true });
    expect(await metrics.registry.getSingleMetricAsString('headwatch_dependency_up')).toContain('headwatch_dependency_up{dependency="docker"} 1');
    expect(seen).toEqual([
      { kind: 'docker-status', at: 1_000, origin: 'docker', reachable: false, error: 'connect ECONNREFUSED /var/run/docker.sock' },
      { kind: 'docker-status', at: 1_000, origin: 'docker', reachable: true },
    ]);
  });
});
