import { describe, expect, it } from 'vitest';
import { MisconfigDetector } from '../../src/detectors/misconfig.js';

const T0 = 1_800_000_000_000;

describe('MisconfigDetector', () => {
  it('fires at once on a proxy that strips the /ts2021 upgrade, carrying the offending line', () => {
    const d = new MisconfigDetector();
    const line = 'WRN no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.';
    const out = d.observe({ kind: 'proxy-no-upgrade', at: T0, origin: 'headscale', endpoint: 'ts2021', line });
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ action: 'fire', alert: { kind: 'proxy-misconfigured', severity: 'critical', evidence: [line] } });
  });

  it('names both versions for an unsupported client', () => {
    const d = new MisconfigDetector();
    const out = d.observe({ kind: 'unsupported-client', at: T0, origin: 'headscale', clientVersion: 'v1.74', minimumVersion: 'v1.80', clientCapVer: 106, minimumCapVer: 113 });
    expect(out[0]).toMatchObject({ action: 'fire', alert: { kind: 'unsupported-client' } });
    expect(out[0]!.action === 'fire' && out[0]!.alert.summary).toMatch(/v1\.74.*v1\.80/);
  });

  it('treats a noise failure caused by a stripped upgrade as a proxy problem but ignores unrelated noise errors', () => {
    const d = new MisconfigDetector();
    expect(d.observe({ kind: 'noise-upgrade-failed', at: T0, origin: 'headscale', cause: 'noise handshake failed: decrypting machine key' })).toEqual([]);
    expect(d.observe({ kind: 'noise-upgrade-failed', at: T0, origin: 'headscale', cause: 'no next protocol in HTTP request' })).toMatchObject([{ action: 'fire' }]);
  });

  it('repeats update the same alert and it clears after the quiet period', () => {
    const d = new MisconfigDetector({ quietMs: 60_000 });
    d.observe({ kind: 'forced-443', at: T0, origin: 'ts1' });
    expect(d.observe({ kind: 'forced-443', at: T0 + 1000, origin: 'ts1' })).toEqual([]);
    expect(d.observe({ kind: 'forced-443', at: T0 + 40_000, origin: 'ts1' })).toMatchObject([{ action: 'update' }]);
    expect(d.tick(T0 + 90_000)).toEqual([]);
    expect(d.tick(T0 + 100_001)).toMatchObject([{ action: 'resolve', fingerprint: 'forced-443-loop:ts1' }]);
  });
});
