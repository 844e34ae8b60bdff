import { describe, expect, it } from 'vitest';
import type { Alert, DetectorEvent } from '../../src/alerts/model.js';
import { capVerToMinor, headscaleMinor, parseVersion, releaseCaps } from '../../src/detectors/capver.js';
import { ExpiryDetector } from '../../src/detectors/expiry.js';
import { InventoryDetector } from '../../src/detectors/inventory.js';
import { ReachabilityDetector } from '../../src/detectors/reachability.js';
import { SkewDetector } from '../../src/detectors/skew.js';
import type { Finding } from '../../src/parsers/finding.js';
import type { HsNode } from '../../src/sources/headscale/types.js';
import { parseTailscaleVersion } from '../../src/sources/headscale/version-probe.js';

const T0 = Date.UTC(2026, 6, 20, 12, 0, 0);
const S = 1000;
const H = 3_600_000;

const server = (version: string, at = T0, origin = 'headscale'): Finding => ({ kind: 'server-version', at, origin, version });
const client = (version: string, origin: string, at = T0): Finding => ({ kind: 'client-version', at, origin, version });
const brief = (events: DetectorEvent[]) => events.map((e) => (e.action === 'resolve' ? `resolve ${e.fingerprint}` : `${e.action} ${e.alert.fingerprint} ${e.alert.severity}`));

/** What the lifecycle would store for fired events: used to exercise restore(). */
function stored(events: DetectorEvent[]): Alert[] {
  return events.flatMap((e) =>
    e.action === 'fire'
      ? [{ ...e.alert, labels: e.alert.labels ?? {}, status: 'firing' as const, startsAt: new Date(T0).toISOString(), updatedAt: new Date(T0).toISOString(), endsAt: null, occurrences: 1 }]
      : [],
  );
}

describe('capability table', () => {
  it('knows each release minimum and newest client', () => {
    expect(releaseCaps(29)).toMatchObject({ minClientMinor: 80, newestKnownMinor: 98 });
    expect(releaseCaps(22)?.minClientMinor).toBeUndefined();
    expect(releaseCaps(30)).toMatchObject({ release: 30, minClientMinor: 80 }); // 0.30-dev: same table as 0.29.2
    expect(releaseCaps(21)).toBeUndefined();
    expect(capVerToMinor(106)).toBe(74);
    expect(headscaleMinor('v0.27.1+dirty')).toBe(27);
    expect(headscaleMinor('dev')).toBeUndefined();
    expect(parseVersion('1.80.3-tbd762b827')).toMatchObject({ major: 1, minor: 80, patch: 3 });
  });

  it('reads the first line of `tailscale version`', () => {
    expect(parseTailscaleVersion('1.80.3\n  tailscale commit: abc\n  go version: go1.24\n')).toBe('1.80.3');
    expect(parseTailscaleVersion('Client: 1.86.4-t1234\nDaemon: 1.86.4')).toBe('1.86.4');
    expect(parseTailscaleVersion('sh: tailscale: not found')).toBeUndefined();
    expect(parseTailscaleVersion('')).toBeUndefined();
  });
});

describe('SkewDetector', () => {
  it('flags a client below the server minimum, naming both versions', () => {
    const d = new SkewDetector();
    expect(d.observe(client('1.74.0', 'ts-nas'))).toEqual([]); // server unknown yet: no verdict
    const ev = d.observe(server('v0.29.2', T0, 'headscale-api'));
    expect(brief(ev)).toEqual(['fire version-skew:ts-nas critical']);
    const a = (ev[0] as { alert: { summary: string; labels: Record<string, string> } }).alert;
    expect(a.summary).toContain('1.74.0');
    expect(a.summary).toContain('0.29.2');
    expect(a.summary).toContain('v1.80');
    expect(a.labels).toMatchObject({ clientVersion: '1.74.0', serverVersion: '0.29.2', direction: 'below' });
    // Upgrading the client clears it; an unchanged report does not repeat.
    expect(d.observe(client('1.74.0', 'ts-nas', T0 + S))).toEqual([]);
    expect(brief(d.observe(client('1.80.3', 'ts-nas', T0 + 2 * S)))).toEqual(['resolve version-skew:ts-nas']);
  });

  it('flags a client far ahead of a pinned old server (the #2486 storm case)', () => {
    const d = new SkewDetector();
    d.observe(server('0.23.0')); // from the startup log line, no /version before 0.27
    const ev = d.observe(client('1.80.3', 'ts-exit'));
    expect(brief(ev)).toEqual(['fire version-skew:ts-exit warning']);
    expect((ev[0] as { alert: { summary: string } }).alert.summary).toMatch(/1\.80\.3.*0\.23\.0.*v1\.72.*#2486/);
    // Within the margin: fine.
    expect(d.observe(client('1.76.0', 'ts-other'))).toEqual([]);
    // Upgrading the server resolves it.
    expect(brief(d.observe(server('0.25.1', T0 + H)))).toEqual(['resolve version-skew:ts-exit']);
  });

  it("uses the server's own logged minimum over the table, and a probed range does not override a precise version", () => {
    const d = new SkewDetector();
    d.observe(server('0.26.1'));
    expect(d.observe(client('1.62.0', 'ts-a'))).toEqual([]); // table minimum v1.62
    expect(brief(d.observe({ kind: 'server-minimum-client', at: T0, origin: 'headscale', minimumVersion: 'v1.64.0' }))).toEqual([
      'fire version-skew:ts-a critical',
    ]);
    expect(d.observe(server('0.26', T0 + S, 'headscale-api'))).toEqual([]);
    expect(d.snapshot().server?.version).toBe('0.26.1');
  });

  it('does not double the misconfig alert for logged rejections unless asked', () => {
    const rejected: Finding = { kind: 'unsupported-client', at: T0, origin: 'headscale', clientVersion: 'v1.74', minimumVersion: 'v1.80', clientCapVer: 106 };
    expect(new SkewDetector().observe(rejected)).toEqual([]);
    const d = new SkewDetector({ alertOnRejectedClients: true });
    d.observe(server('0.29.2'));
    expect(brief(d.observe(rejected))).toEqual(['fire version-skew:rejected client v1.74 critical']);
  });

  it('forgets clients not seen for a day and survives a restart without re-firing', () => {
    const d = new SkewDetector();
    d.observe(server('0.29.2'));
    const fired = d.observe(client('1.70.0', 'ts-old'));
    const restored = new SkewDetector();
    restored.restore(JSON.parse(JSON.stringify(d.snapshot())), stored(fired));
    expect(restored.observe(client('1.70.0', 'ts-old', T0 + H))).toEqual([]);
    expect(restored.tick(T0 + 10 * H)).toEqual([]);
    expect(brief(restored.tick(T0 + H + 24 * H))).toEqual(['resolve version-skew:ts-old']);
  });
});

describe('ReachabilityDetector', () => {
  const down = (at: number, errorCode = 'unreachable'): Finding => ({ kind: 'api-status', at, origin: 'headscale-api', reachable: false, errorCode, error: `Cannot reach Headscale (${errorCode})` });
  const up = (at: number): Finding => ({ kind: 'api-status', at, origin: 'headscale-api', reachable: true });

  it('needs two failed polls, fires once, updates when the cause changes, clears on success', () => {
    const d = new ReachabilityDetector();
    expect(d.observe(down(T0))).toEqual([]);
    expect(d.observe(up(T0 + 10 * S))).toEqual([]); // one blip is not an outage
    expect(d.observe(down(T0 + 20 * S))).toEqual([]);
    expect(brief(d.observe(down(T0 + 30 * S)))).toEqual(['fire headscale-unreachable:headscale-api critical']);
    expect(d.observe(down(T0 + 40 * S))).toEqual([]);
    expect(brief(d.observe(down(T0 + 50 * S, 'timeout')))).toEqual(['update headscale-unreachable:headscale-api critical']);
    expect(d.isFiring()).toBe(true);
    const resolved = d.observe(up(T0 + 80 * S));
    expect(brief(resolved)).toEqual(['resolve headscale-unreachable:headscale-api']);
    expect((resolved[0] as { summary: string }).summary).toContain('after 60 s');
  });

  it('clears after a restart when the stored alert is firing', () => {
    const d = new ReachabilityDetector();
    d.observe(down(T0));
    const fired = d.observe(down(T0 + 10 * S));
    const restored = new ReachabilityDetector();
    restored.restore(d.snapshot(), stored(fired));
    expect(restored.observe(down(T0 + 20 * S))).toEqual([]);
    expect(brief(restored.observe(up(T0 + 30 * S)))).toEqual(['resolve headscale-unreachable:headscale-api']);
  });
});

describe('ExpiryDetector and InventoryDetector', () => {
  const node = (id: string, expiry: string | null): HsNode => ({
    id,
    name: `n${id}`,
    givenName: `n${id}`,
    user: null,
    online: true,
    lastSeen: null,
    expiry,
    createdAt: null,
    ipAddresses: [],
    tags: [],
  });
  const inventory = (at: number, nodes: HsNode[]): Finding => ({ kind: 'node-inventory', at, origin: 'headscale-api', nodes });

  it('resolves expiry alerts of a deleted node and restores without repeating', () => {
    const d = new ExpiryDetector({ warnMs: 24 * H });
    const fired = d.observe(inventory(T0, [node('1', new Date(T0 + 2 * H).toISOString()), node('2', null)]));
    expect(brief(fired)).toEqual(['fire node-expiring:1 warning']);
    const restored = new ExpiryDetector();
    restored.restore(JSON.parse(JSON.stringify(d.snapshot())), stored(fired));
    expect(restored.tick(T0 + H)).toEqual([]);
    expect(brief(restored.observe(inventory(T0 + H, [node('2', null)])))).toEqual(['resolve node-expiring:1']);
  });

  it('alerts for a node that expired shortly before headwatch started, not for long-dead ones', () => {
    const d = new ExpiryDetector();
    const ev = d.observe(inventory(T0, [node('1', new Date(T0 - 2 * H).toISOString()), node('2', new Date(T0 - 30 * 24 * H).toISOString())]));
    expect(brief(ev)).toEqual(['fire node-expired:1 critical']);
  });

  it('sends one notice per created node, updates on repeats, resolves quietly later', () => {
    const d = new InventoryDetector({ noticeMs: 60 * S });
    const created: Finding = { kind: 'node-created', at: T0, origin: 'headscale-api', nodeId: '9', nodeName: 'box', user: 'alice' };
    expect(brief(d.observe(created))).toEqual(['fire node-created:9 info']);
    expect(brief(d.observe({ ...created, at: T0 + S }))).toEqual(['update node-created:9 info']);
    expect(d.tick(T0 + 30 * S)).toEqual([]);
    expect(brief(d.observe({ ...created, kind: 'node-deleted', at: T0 + 40 * S }))).toEqual(['resolve node-created:9', 'fire node-deleted:9 info']);
    expect(brief(d.tick(T0 + 100 * S))).toEqual(['resolve node-deleted:9']);
  });
});
