import { describe, expect, it } from 'vitest';
import type { DetectorEvent } from '../../src/alerts/model.js';
import { ApiKeyDetector } from '../../src/detectors/api-keys.js';
import { AuthRejectedDetector } from '../../src/detectors/auth.js';
import { ControlPathDetector } from '../../src/detectors/control-path.js';
import type { Detector } from '../../src/detectors/detector.js';
import { FlappingDetector } from '../../src/detectors/flapping.js';
import { MapStreamDetector } from '../../src/detectors/map-stream.js';
import { MisconfigDetector } from '../../src/detectors/misconfig.js';
import { TlsDetector } from '../../src/detectors/tls.js';
import { headscaleParser } from '../../src/parsers/headscale.js';
import { tailscaleParser } from '../../src/parsers/tailscale.js';

/**
 * Real-shaped lines → parser → detector: what an operator would see for each failure signature, and when it
 * goes away again.
 */
const T0 = 1_800_000_000_000;
const CALLER = 'home/runner/work/headscale/headscale/hscontrol';

function feed(d: Detector, origin: string, lines: Array<[offsetMs: number, line: string]>, role: 'headscale' | 'tailscale'): DetectorEvent[] {
  const parser = role === 'headscale' ? headscaleParser : tailscaleParser;
  const out: DetectorEvent[] = [];
  for (const [dt, line] of lines) {
    const f = parser.parse(line, T0 + dt, origin);
    expect(f, line).toBeDefined();
    out.push(...d.observe(f!));
  }
  return out;
}
const actions = (events: DetectorEvent[]) => events.map((e) => (e.action === 'resolve' ? `resolve ${e.fingerprint}` : `${e.action} ${e.alert.fingerprint} ${e.alert.severity}`));

describe('flapping with batcher lines: one session, one count', () => {
  const node = 'node.id=7 node.name=nas-01';
  it('0.29: connect and disconnect logged by state, poll and batcher count 2 transitions, not 6', () => {
    const d = new FlappingDetector({ count: 3, windowMs: 300_000 });
    const events = feed(
      d,
      'headscale',
      [
        [0, `2026-11-26T08:19:34Z INF node connected ${node}`],
        [0, `2026-11-26T08:19:34Z INF ${CALLER}/poll.go:251 > node has connected chan=0xc0000b41c0 component=poll ${node}`],
        [5, `2026-11-26T08:19:34Z DBG ${CALLER}/mapper/batcher.go:361 > node connection established in batcher active.connections=1 node.id=7 total.duration=1.1ms`],
        [60_000, `2026-11-26T08:20:34Z DBG ${CALLER}/mapper/batcher.go:398 > node disconnected from batcher, keeping entry for rapid reconnection node.id=7`],
        [70_000, `2026-11-26T08:20:44Z INF node disconnected ${node}`],
        [70_000, `2026-11-26T08:20:44Z INF ${CALLER}/poll.go:211 > node has disconnected chan=0xc0000b41c0 component=poll ${node}`],
      ],
      'headscale',
    );
    expect(events).toEqual([]);
    expect(d.flapsInWindow('7', T0 + 70_000)).toBe(2);
  });

  it('0.27/0.28: a reconnect inside the 10 s grace counts as drop + return, with or without the batcher lines', () => {
    const withBatcher = new FlappingDetector({ count: 10, windowMs: 300_000 });
    feed(
      withBatcher,
      'headscale',
      [
        [0, `2025-10-01T10:00:00Z INF ${CALLER}/poll.go:174 > node has connected, mapSession: 0xc000a1, chan: 0xc000b1 node.id=7 node.name=nas-01 omitPeers=false stream=true`],
        [1, `2025-10-01T10:00:00Z DBG Node connection established in batcher because AddNode completed successfully active.connections=1 node.id=7`],
        [30_000, `2025-10-01T10:00:30Z DBG Node disconnected from batcher because all connections removed, keeping entry for rapid reconnection node.id=7`],
        [33_000, `2025-10-01T10:00:33Z INF ${CALLER}/poll.go:174 > node has connected, mapSession: 0xc000a2, chan: 0xc000b2 node.id=7 node.name=nas-01 omitPeers=false stream=true`],
        [33_001, `2025-10-01T10:00:33Z DBG Node connection established in batcher because AddNode completed successfully active.connections=1 node.id=7`],
      ],
      'headscale',
    );
    const pollOnly = new FlappingDetector({ count: 10, windowMs: 300_000 });
    feed(
      pollOnly,
      'headscale',
      [
        [0, `2025-10-01T10:00:00Z INF ${CALLER}/poll.go:174 > node has connected, mapSession: 0xc000a1, chan: 0xc000b1 node.id=7 node.name=nas-01 omitPeers=false stream=true`],
        [33_000, `2025-10-01T10:00:33Z INF ${CALLER}/poll.go:174 > node has connected, mapSession: 0xc000a2, chan: 0xc000b2 node.id=7 node.name=nas-01 omitPeers=false stream=true`],
      ],
      'headscale',
    );
    expect(withBatcher.flapsInWindow('7', T0 + 40_000)).toBe(3);
    expect(pollOnly.flapsInWindow('7', T0 + 40_000)).toBe(3);
  });

  it('shows the server’s map write failures for the node among its flapping evidence', () => {
    const d = new FlappingDetector({ count: 2, windowMs: 300_000 });
    const events = feed(
      d,
      'headscale',
      [
        [0, `2026-11-26T08:19:34Z INF node connected ${node}`],
        [1000, `2026-11-26T08:19:35Z ERR ${CALLER}/poll.go:301 > cannot write update to client error="client disconnected" ${node}`],
        [2000, `2026-11-26T08:19:36Z INF node disconnected ${node}`],
      ],
      'headscale',
    );
    const fire = events.find((e) => e.action === 'fire');
    expect(fire?.action === 'fire' && fire.alert.evidence.some((l) => l.includes('cannot write update to client'))).toBe(true);
  });
});

describe('tls-error', () => {
  it('fires after repeated handshake failures from one peer, not for one, and clears after 15 quiet minutes', () => {
    const d = new TlsDetector();
    const line = (dt: number) => [dt, `2026/11/26 08:19:34 http: TLS handshake error from 203.0.113.7:${40000 + dt}: remote error: tls: bad certificate`] as [number, string];
    expect(feed(d, 'headscale', [line(0), line(1000)], 'headscale')).toEqual([]);
    const events = feed(d, 'headscale', [line(2000)], 'headscale');
    expect(actions(events)).toEqual(['fire tls-error:headscale from 203.0.113.7 warning']);
    const fire = events[0]!;
    expect(fire.action === 'fire' && fire.alert.summary).toMatch(/does not trust Headscale's certificate/);
    expect(fire.action === 'fire' && fire.alert.labels).toMatchObject({ side: 'server', peer: '203.0.113.7' });
    expect(d.tick(T0 + 2000 + 14 * 60_000)).toEqual([]);
    expect(actions(d.tick(T0 + 2000 + 15 * 60_000))).toEqual(['resolve tls-error:headscale from 203.0.113.7']);
  });

  it('ignores dropped handshakes and SNI-less scanners, but fires at once when Let’s Encrypt refuses the certificate', () => {
    const d = new TlsDetector();
    const noise = [0, 1, 2, 3].map((i) => [i, `2026/11/26 08:19:34 http: TLS handshake error from 198.51.100.${i}:4000${i}: ${i % 2 ? 'EOF' : 'acme/autocert: missing server name'}`] as [number, string]);
    expect(feed(d, 'headscale', noise, 'headscale')).toEqual([]);
    const events = feed(
      d,
      'headscale',
      [[10, '2026/11/26 08:19:34 http: TLS handshake error from 198.51.100.9:40000: acme/autocert: unable to authorize "hs.example.com"; challenge "tls-alpn-01" failed with error: acme: authorization error for hs.example.com: 403 urn:ietf:params:acme:error:unauthorized']],
      'headscale',
    );
    expect(actions(events)).toEqual(['fire tls-error:headscale from 198.51.100.9 critical']);
    expect(events[0]!.action === 'fire' && events[0]!.alert.summary).toMatch(/Let's Encrypt/);
  });

  it('fires at once on the client side when the control key cannot be fetched over TLS, naming the control host', () => {
    const d = new TlsDetector();
    const events = feed(d, 'ts-nas', [[0, '2026/11/26 08:19:34 Received error: fetch control key: Get "https://hs.example.com/key?v=131": tls: failed to verify certificate: x509: certificate signed by unknown authority']], 'tailscale');
    expect(actions(events)).toEqual(['fire tls-error:ts-nas to hs.example.com critical']);
    expect(events[0]!.action === 'fire' && events[0]!.alert.labels?.side).toBe('client');
  });
});

describe('auth-rejected', () => {
  it('fires on a rejected key and clears when the client is Running again', () => {
    const d = new AuthRejectedDetector();
    const events = feed(
      d,
      'ts-nas',
      [
        [0, '2026/04/23 20:17:08 Switching ipn state NoState -> NeedsLogin (WantRunning=true, nm=false)'],
        [100, '2026/04/23 20:17:08 Received error: register request: http 401: authkey expired'],
        [200, '2026/04/23 20:17:08 health(warnable=login-state): error: You are logged out. The last login error was: register request: http 401: authkey expired'],
      ],
      'tailscale',
    );
    expect(actions(events)).toEqual(['fire auth-rejected:ts-nas critical']);
    const fire = events[0]!;
    expect(fire.action === 'fire' && fire.alert.summary).toMatch(/authkey expired.*TS_AUTH_ONCE=true/);
    // Hours of silence do not clear it: the node is still off the tailnet.
    expect(d.tick(T0 + 3_600_000)).toEqual([]);
    const back = feed(d, 'ts-nas', [[3_700_000, '2026/04/23 21:18:48 Switching ipn state Starting -> Running (WantRunning=true, nm=true)']], 'tailscale');
    expect(actions(back)).toEqual(['resolve auth-rejected:ts-nas']);
  });

  it('takes a logged-in client dropping to NeedsLogin as a refusal, but not the NeedsLogin of a first login', () => {
    const d = new AuthRejectedDetector();
    expect(feed(d, 'ts-a', [[0, '2026/11/26 08:00:00 Switching ipn state NoState -> NeedsLogin (WantRunning=true, nm=false)']], 'tailscale')).toEqual([]);
    const events = feed(d, 'ts-b', [[0, '2026/11/26 08:00:00 Switching ipn state Running -> NeedsLogin (WantRunning=true, nm=true)']], 'tailscale');
    expect(actions(events)).toEqual(['fire auth-rejected:ts-b critical']);
  });

  it('covers machine-key and protocol refusals of old clients', () => {
    const d = new AuthRejectedDetector();
    const events = feed(d, 'ts-old', [[0, 'Received error: control server is too old; no noise key'], [1, 'Received error: cannot decrypt response']], 'tailscale');
    expect(actions(events)).toEqual(['fire auth-rejected:ts-old critical']);
  });
});

describe('api-key-rejected', () => {
  it('names the client address, counts repeats, and clears after 15 quiet minutes', () => {
    const d = new ApiKeyDetector();
    const events = feed(
      d,
      'headscale',
      [
        [0, '2026-11-26T08:19:34Z INF invalid token client_address=172.18.0.9:51234'],
        [40_000, '2026-11-26T08:20:14Z INF invalid token client_address=172.18.0.9:51240'],
      ],
      'headscale',
    );
    expect(actions(events)).toEqual(['fire api-key-rejected:172.18.0.9 warning', 'update api-key-rejected:172.18.0.9 warning']);
    expect(events[1]!.action === 'update' && events[1]!.alert.summary).toMatch(/from 172\.18\.0\.9 \(2 times\)/);
    expect(actions(d.tick(T0 + 40_000 + 15 * 60_000))).toEqual(['resolve api-key-rejected:172.18.0.9']);
  });
});

describe('control-path-errors', () => {
  it('fires after 5 control errors in 10 minutes, counting lite map update errors, and not for auth errors', () => {
    const d = new ControlPathDetector();
    const lite = (dt: number) => [dt, `2026/05/21 14:30:49 control: lite map update error after 5.681s: Post "https://hs.example.com/machine/map": read: connection reset by peer`] as [number, string];
    expect(feed(d, 'ts-nas', [[0, 'Received error: register request: http 401: authkey expired']], 'tailscale')).toEqual([]);
    const events = feed(d, 'ts-nas', [lite(0), lite(60_000), [90_000, 'Received error: PollNetMap: unexpected EOF'], [100_000, '2026/05/21 14:32:43 control: map response long-poll timed out!'], lite(120_000)], 'tailscale');
    expect(actions(events)).toEqual(['fire control-path-errors:ts-nas warning']);
    expect(events[0]!.action === 'fire' && events[0]!.alert.summary).toMatch(/at hs\.example\.com: 5 errors in 10 min/);
    expect(actions(d.tick(T0 + 120_000 + 10 * 60_000))).toEqual(['resolve control-path-errors:ts-nas']);
  });
});

describe('map-stream-errors', () => {
  it('fires when Headscale fails 10 map writes in 5 minutes, naming how many nodes', () => {
    const d = new MapStreamDetector();
    const lines = Array.from({ length: 10 }, (_, i) => [i * 10_000, `2026-11-26T08:19:34Z ERR ${CALLER}/poll.go:301 > cannot write update to client error="client disconnected" node.id=${1 + (i % 4)} node.name=n${1 + (i % 4)}`] as [number, string]);
    const events = feed(d, 'headscale', lines, 'headscale');
    expect(actions(events)).toEqual(['fire map-stream-errors:headscale warning']);
    expect(events[0]!.action === 'fire' && events[0]!.alert.summary).toMatch(/10 times in 5 min to 4 nodes/);
    expect(d.tick(T0 + 90_000 + 9 * 60_000)).toEqual([]);
    expect(actions(d.tick(T0 + 90_000 + 10 * 60_000))).toEqual(['resolve map-stream-errors:headscale']);
  });
});

describe('proxy evidence from the client', () => {
  it('raises proxy-misconfigured for 3xx/4xx answers to the upgrade, naming the answers', () => {
    const d = new MisconfigDetector();
    const events = feed(
      d,
      'ts-nas',
      [[0, 'Received error: register request: Post "https://hs.example.com/machine/register": all connection attempts failed (HTTP: unexpected HTTP response: 301 Moved Permanently, HTTPS: unexpected HTTP response: 400 Bad Request)']],
      'tailscale',
    );
    expect(actions(events)).toEqual(['fire proxy-misconfigured:ts-nas critical']);
    expect(events[0]!.action === 'fire' && events[0]!.alert.summary).toMatch(/301 Moved Permanently, 400 Bad Request/);
    // Clears once the client has gone the quiet period without another such answer.
    expect(d.tick(T0 + 5 * 60_000)).toEqual([]);
    expect(actions(d.tick(T0 + 30 * 60_000))).toEqual(['resolve proxy-misconfigured:ts-nas']);
  });
});
