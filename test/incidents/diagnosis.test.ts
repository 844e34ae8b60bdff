import { describe, expect, it } from 'vitest';
import { diagnose, type DiagnosisInput } from '../../src/incidents/diagnosis.js';
import { firstStepText } from '../../src/incidents/message.js';
import type { ContainerFacts } from '../../src/sources/docker/facts.js';
import { facts } from './helpers.js';
import { flapping, MiniPipeline, stormLines } from './pipeline.js';

const HS = 'headscale';
const TS = 'ts-nas';

function input(p: MiniPipeline, extra: Partial<DiagnosisInput> & { containers?: ContainerFacts[] } = {}): DiagnosisInput {
  const containers = extra.containers ?? [facts(TS, { tsHostname: 'nas-01', loginServer: 'https://hs.example.com', loginServerFrom: 'TS_EXTRA_ARGS' })];
  return {
    members: p.firing(),
    containers,
    server: { version: '0.29.8', versionFrom: 'headscale-api', container: facts(HS, { image: 'headscale/headscale:0.29.8' }) },
    clientVersions: { [TS]: '1.98.0' },
    notable: p.evidence.recent([...containers.map((c) => c.name), HS], p.at),
    starts: Object.fromEntries(containers.map((c) => [c.name, p.evidence.startsOf(c.name, p.at)])),
    ...extra,
  };
}

describe('diagnosis: the seed failure', () => {
  it('names version skew first for a 1.84 client against a pinned 0.23, says to upgrade Headscale first and how', () => {
    const p = new MiniPipeline();
    p.finding({ kind: 'server-version', origin: 'headscale-api', version: '0.23.0' });
    p.finding({ kind: 'client-version', origin: TS, version: '1.84.0', line: 'tailscale version: 1.84.0' });
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    p.lines(TS, 'tailscale', stormLines(6), 5000);
    p.cpu(TS, 97, 5);
    const causes = diagnose(input(p, { server: { version: '0.23.0', versionFrom: 'headscale-api', container: facts(HS, { image: 'headscale/headscale:0.23.0' }) }, clientVersions: { [TS]: '1.84.0' } }));
    expect(causes.map((c) => c.name)).toEqual(['version-skew', 'map-response-storm', 'headscale-too-old']);
    const top = causes[0]!;
    expect(top.evidence).toEqual(expect.arrayContaining(['server: Headscale 0.23.0 (from headscale-api)', `client: Tailscale 1.84.0 (from ${TS})`]));
    expect(top.fix).toMatch(/upgrade Headscale to 0\.24\.3 first.*Re-registering alone will not stop the loop/);
    expect(top.firstStep).toEqual({
      kind: 'upgrade-headscale',
      from: '0.23.0',
      to: '0.24.3',
      imageChange: 'image: headscale/headscale:0.23.0 → image: headscale/headscale:0.24.3',
      path: ['0.24.3', '0.25.1', '0.26.1', '0.27.1', '0.28.0', '0.29.8'],
    });
    const banner = firstStepText(top.firstStep!);
    expect(banner).toContain('Upgrade Headscale to 0.24.3 first: re-registering alone will not stop the loop');
    expect(banner).toContain('`image: headscale/headscale:0.23.0` → `image: headscale/headscale:0.24.3`');
    expect(banner).toContain('0.29 refuses to skip minor releases');
    // The storm is there as a cause with its own evidence, below the skew that produces it.
    expect(causes[1]!.evidence).toContain('dropped counts rising: 37 → 222 over 6 lines');
  });

  it('after the upgrade the skew evidence is gone and the storm leads, pointing at Re-register', () => {
    const p = new MiniPipeline();
    p.finding({ kind: 'server-version', origin: 'headscale-api', version: '0.23.0' });
    p.finding({ kind: 'client-version', origin: TS, version: '1.84.0' });
    p.lines(TS, 'tailscale', stormLines(6), 5000);
    expect(p.firing().map((a) => a.kind).sort()).toEqual(['ratelimit-flood', 'version-skew']);
    p.finding({ kind: 'server-version', origin: 'headscale-api', version: '0.29.8' });
    expect(p.firing().map((a) => a.kind)).toEqual(['ratelimit-flood']);
    const causes = diagnose(input(p, { clientVersions: { [TS]: '1.84.0' } }));
    expect(causes.map((c) => c.name)).toEqual(['map-response-storm']);
    expect(causes[0]!.fix).toMatch(/re-register the node/);
    expect(causes[0]!.firstStep).toBeUndefined();
  });
});

describe('diagnosis: each cause with only its own evidence comes first', () => {
  it('reverse proxy not passing /ts2021: the WRN line and the client’s unexpected HTTP response', () => {
    const p = new MiniPipeline();
    p.lines(HS, 'headscale', [
      '2026-11-26T08:19:34Z WRN home/runner/work/headscale/headscale/hscontrol/noise.go:107 > no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.',
    ]);
    p.lines(TS, 'tailscale', [
      '2026/11/26 08:19:35 Received error: register request: Post "https://hs.example.com/machine/register": all connection attempts failed (HTTP: unexpected HTTP response: 301 Moved Permanently, HTTPS: unexpected HTTP response: 400 Bad Request)',
    ]);
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    const causes = diagnose(input(p));
    expect(causes.map((c) => c.name)).toEqual(['proxy-no-upgrade']);
    expect(causes[0]!.evidence.join('\n')).toContain('no upgrade header in TS2021 request');
    expect(causes[0]!.evidence.join('\n')).toContain('unexpected HTTP response: 400 Bad Request');
    expect(causes[0]!.fix).toContain('Upgrade: tailscale-control-protocol');
  });

  it('plain-HTTP login server hit by the forced 443 redial: the forced-443 lines and an http:// --login-server', () => {
    const p = new MiniPipeline();
    p.lines(TS, 'tailscale', ['2026/11/26 08:19:35 control: controlhttp: forcing port 443 dial due to recent noise dial']);
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    const causes = diagnose(input(p, { containers: [facts(TS, { loginServer: 'http://headscale:8080', loginServerFrom: 'TS_EXTRA_ARGS' })] }));
    expect(causes.map((c) => c.name)).toEqual(['plain-http-forced-443']);
    expect(causes[0]!.evidence).toContain(`${TS}: TS_EXTRA_ARGS --login-server=http://headscale:8080 (plain HTTP on a hostname: every quick redial goes to port 443)`);
    // The same lines with an https:// server weigh less: the loop needs a plain-HTTP server.
    const https = diagnose(input(p))[0]!;
    expect(https.score).toBeLessThan(causes[0]!.score);
  });

  it("shared network namespace: the Tailscale container in Headscale's namespace", () => {
    const p = new MiniPipeline();
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    const hs = { ...facts(HS, { image: 'headscale/headscale:0.29.8' }), id: 'f00dfeed1234' };
    const causes = diagnose(input(p, { containers: [facts(TS, { networkMode: 'container:f00dfeed1234' })], server: { version: '0.29.8', container: hs } }));
    expect(causes.map((c) => c.name)).toEqual(['shared-network-namespace']);
    expect(causes[0]!.evidence[0]).toBe(`${TS}: NetworkMode container:f00dfeed1234 — the network namespace of Headscale (${HS})`);
    const host = diagnose(input(p, { containers: [facts(TS, { networkMode: 'host' })] }));
    expect(host.map((c) => c.name)).toEqual(['shared-network-namespace']);
  });

  it('stale auth key re-sent on every start: key set, no TS_AUTH_ONCE, restarts and invalid-key lines', () => {
    const p = new MiniPipeline();
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    p.finding({ kind: 'container-state', origin: TS, state: 'start', containerId: 'x' });
    p.lines(TS, 'tailscale', [
      '2026/04/23 20:17:08 health(warnable=login-state): error: You are logged out. The last login error was: invalid key: API key does not exist',
      'boot: 2026/04/23 20:17:40 failed to auth tailscale: tailscale up failed: context deadline exceeded',
    ]);
    p.finding({ kind: 'container-state', origin: TS, state: 'start', containerId: 'x' });
    const ts = facts(TS, { authKeySet: true, restartCount: 3, restartPolicy: 'always' });
    const causes = diagnose(input(p, { containers: [ts] }));
    expect(causes.map((c) => c.name)).toEqual(['stale-auth-key']);
    const ev = causes[0]!.evidence.join('\n');
    expect(ev).toContain('TS_AUTHKEY is set and TS_AUTH_ONCE is not set');
    expect(ev).toContain('restarted 3 times (restart policy always)');
    expect(ev).toContain('invalid key: API key does not exist');
    expect(causes[0]!.fix).toContain('TS_AUTH_ONCE=true');
    // With TS_AUTH_ONCE=true the key is not re-sent: no evidence for this cause.
    expect(diagnose(input(p, { containers: [{ ...ts, authOnce: 'true' }] }))).toEqual([]);
    // A key in the environment alone, with nothing failing, is not evidence either.
    expect(diagnose(input(new MiniPipeline(), { containers: [facts(TS, { authKeySet: true })] }))).toEqual([]);
  });

  it('map-response storm: repeating control: [v\\x00JSON] RATELIMIT lines with rising dropped counts', () => {
    const p = new MiniPipeline();
    p.lines(TS, 'tailscale', stormLines(6), 5000);
    const causes = diagnose(input(p));
    expect(causes.map((c) => c.name)).toEqual(['map-response-storm']);
    expect(causes[0]!.evidence.at(-1)).toBe('dropped counts rising: 37 → 222 over 6 lines');
    // Other RATELIMIT formats are a flood, but not a map-response storm.
    const q = new MiniPipeline();
    q.lines(TS, 'tailscale', Array.from({ length: 6 }, (_, i) => `2025/03/17 15:05:3${i} [RATELIMIT] format("netcheck: %v") (${10 + i} dropped)`));
    expect(q.firing().map((a) => a.kind)).toEqual(['ratelimit-flood']);
    expect(diagnose(input(q))).toEqual([]);
  });

  it('Headscale release too old: names the next minor and the exact image change', () => {
    const p = new MiniPipeline();
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    const causes = diagnose(
      input(p, { server: { version: 'v0.27.1', versionFrom: 'headscale-api', container: facts(HS, { image: 'ghcr.io/juanfont/headscale:v0.27.1' }) }, clientVersions: { [TS]: '1.84.0' } }),
    );
    expect(causes.map((c) => c.name)).toEqual(['headscale-too-old']);
    expect(causes[0]!.evidence[0]).toBe('Headscale v0.27.1 (from headscale-api): the oldest release line still maintained is 0.29 (newest 0.29.8)');
    expect(causes[0]!.fix).toBe(
      'Upgrade Headscale to 0.28.0 first, then one minor at a time (0.29.8; 0.29 refuses to skip minors). In the compose file: image: ghcr.io/juanfont/headscale:v0.27.1 → image: ghcr.io/juanfont/headscale:v0.28.0.',
    );
  });

  it('version skew the other way: a client below the server minimum says to upgrade the client, not Headscale', () => {
    const p = new MiniPipeline();
    p.finding({ kind: 'server-version', origin: 'headscale-api', version: '0.29.8' });
    p.finding({ kind: 'client-version', origin: TS, version: '1.74.1' });
    p.lines(HS, 'headscale', [
      '2026-11-26T08:19:34Z ERR home/runner/work/headscale/headscale/hscontrol/noise.go:281 > unsupported client connected client_cap_ver=106 client_version=v1.74 machine.key=[RoBrF] minimum_cap_ver=113 minimum_version=v1.80 node.key=[wZ9Nr]',
    ]);
    const causes = diagnose(input(p, { containers: [facts(TS, { image: 'tailscale/tailscale:v1.74.1' })], clientVersions: { [TS]: '1.74.1' } }));
    expect(causes.map((c) => c.name)).toEqual(['version-skew']);
    expect(causes[0]!.fix).toMatch(/upgrade Tailscale in ts-nas to v1\.80 or newer \(not Headscale\)/);
    expect(causes[0]!.firstStep).toMatchObject({ kind: 'upgrade-client', container: TS, minimum: 'v1.80' });
    expect(firstStepText(causes[0]!.firstStep!)).toContain('Upgrade the Tailscale client in ts-nas to v1.80 or newer first');
  });

  it('without a skew alert yet, the probed versions alone are evidence', () => {
    const causes = diagnose(input(new MiniPipeline(), { server: { version: '0.23.0' }, clientVersions: { [TS]: '1.84.0' } }));
    expect(causes[0]).toMatchObject({ name: 'version-skew' });
    expect(causes[0]!.evidence).toContain('server: Headscale 0.23.0 knows clients up to v1.72');
  });
});

describe('diagnosis: no evidence', () => {
  it('returns no cause for flapping that matches none of them', () => {
    const p = new MiniPipeline();
    p.lines(HS, 'headscale', flapping(7, 'nas-01', 4));
    p.cpu(TS, 97, 5);
    expect(p.firing().map((a) => a.kind).sort()).toEqual(['cpu-sustained', 'node-flapping']);
    expect(diagnose(input(p))).toEqual([]);
  });
});
