import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/parsers/finding.js';
import { headscaleParser } from '../../src/parsers/headscale.js';
import { tailscaleParser } from '../../src/parsers/tailscale.js';

/**
 * Shapes real deployments print that the reference samples do not cover. Every line is built from the
 * release's own format string and field calls (juanfont/headscale at the tag named; tailscale/tailscale
 * control client), with made-up names, keys, pointers and addresses.
 */
const AT = 1_795_681_174_000;
const hs = (line: string): Finding | undefined => headscaleParser.parse(line, AT, 'headscale');
const ts = (line: string): Finding | undefined => tailscaleParser.parse(line, AT, 'ts-nas');
const CALLER = 'home/runner/work/headscale/headscale/hscontrol';

function expectHs(line: string, expected: Record<string, unknown>): void {
  expect(hs(line), line).toStrictEqual({ ...expected, at: AT, origin: 'headscale', line });
}
function expectTs(line: string, expected: Record<string, unknown>): void {
  expect(ts(line), line).toStrictEqual({ ...expected, at: AT, origin: 'ts-nas', line });
}

describe('0.23 alpha/beta development builds', () => {
  // v0.23.0-alpha1…4 hscontrol/poll.go: logPollFunc adds noise, readOnly, omitPeers, stream, node_key and `node`
  // (the hostname; `machine` until the Machine→Node rename), the close line is logInfo(...).
  it('reads `The client has closed the connection` with node= instead of machine=', () => {
    const closed = { kind: 'node-disconnected', nodeId: 'nas-01', nodeName: 'nas-01', via: 'legacy' };
    expectHs(`2024-02-06T10:00:00Z INF ${CALLER}/poll.go:349 > The client has closed the connection node=nas-01 node_key=[Ab3dE] noise=true omitPeers=false readOnly=false stream=true`, closed);
    expectHs(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:349","noise":true,"readOnly":false,"omitPeers":false,"stream":true,"node_key":"[Ab3dE]","node":"nas-01","time":1707213600,"message":"The client has closed the connection"}',
      closed,
    );
  });

  it('takes `Sending initial map` as the connect of those builds, and not on 0.22 where the ready line already said it', () => {
    expectHs(`2024-02-06T10:00:00Z INF ${CALLER}/poll.go:195 > Sending initial map node=nas-01 node_key=[Ab3dE] noise=true omitPeers=false readOnly=false stream=true`, {
      kind: 'node-connected',
      nodeId: 'nas-01',
      nodeName: 'nas-01',
      via: 'legacy',
    });
    expect(hs('2023-05-10T10:00:00Z INF Sending initial map handler=PollNetMap machine=nas-01 noise=true')).toBeUndefined();
  });

  it('accepts the ready line with node= as well (a build that renamed the field)', () => {
    expectHs('2024-02-06T10:00:00Z INF Client is ready to access the tailnet handler=PollNetMap node=nas-01 noise=true', {
      kind: 'node-connected',
      nodeId: 'nas-01',
      nodeName: 'nas-01',
      via: 'legacy',
    });
  });

  it('pairs alpha6–alpha11 poll lines, which print only the mapSession pointer, by that pointer', () => {
    // v0.23.0-alpha6 poll.go:154 m.infof("node has connected, mapSession: %p", m); fields readOnly, omitPeers, stream, node.id, node.
    expectHs(`2024-03-01T10:00:00Z INF ${CALLER}/poll.go:154 > node has connected, mapSession: 0xc000ab1200 node=nas-01 node.id=7 omitPeers=false readOnly=false stream=true`, {
      kind: 'node-connected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'poll',
      session: '0xc000ab1200',
    });
    expectHs(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:135","readOnly":false,"omitPeers":false,"stream":true,"node.id":7,"node":"nas-01","time":1709287200,"message":"node has disconnected, mapSession: 0xc000ab1200"}',
      { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', via: 'poll', session: '0xc000ab1200' },
    );
  });
});

describe('lines whose timestamp was left out', () => {
  const connected = { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', via: 'state' };
  it('recognises the message after the level alone (console writer with an empty time format)', () => {
    expectHs('INF node connected machine.key=[RoBrF] node.expired=false node.id=7 node.is_tagged=false node.key=[wZ9Nr] node.name=nas-01 node.online=true user.name=alice', connected);
    expectHs(`INF ${CALLER}/poll.go:211 > node has disconnected chan=0xc0000b41c0 component=poll node.id=7 node.name=nas-01`, {
      kind: 'node-disconnected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'poll',
      session: '0xc0000b41c0',
    });
  });

  it('recognises `<nil>` in place of the time (an event logged without a time field)', () => {
    expectHs('<nil> INF node connected node.id=7 node.name=nas-01', connected);
  });

  it('recognises the bare message when a supervisor stripped time and level', () => {
    expectHs('node connected node.id=7 node.name=nas-01', connected);
    expectHs('no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.', {
      kind: 'proxy-no-upgrade',
      endpoint: 'ts2021',
    });
    expectHs('ERR http internal server error error="upgrading noise connection: unsupported client version: v1.74 (106)" code=500', {
      kind: 'unsupported-client',
      clientVersion: '1.74',
      clientCapVer: 106,
    });
  });

  it('still ignores ordinary text that starts with a letter', () => {
    for (const line of ['goroutine 1 [running]:', 'panic: runtime error: invalid memory address', 'entrypoint: waiting for config', 'INF http request path=/health', 'node connectedness changed node.id=7']) {
      expect(hs(line), line).toBeUndefined();
    }
  });
});

describe('batcher lines (0.27–0.29) as connect/disconnect evidence', () => {
  it('reads the 0.27/0.28 wording (batcher_lockfree.go) in both formats', () => {
    expectHs(
      `2025-10-01T10:00:00Z DBG ${CALLER}/mapper/batcher_lockfree.go:103 > Node connection established in batcher because AddNode completed successfully active.connections=1 node.id=7 total.duration=1.2ms`,
      { kind: 'node-connected', nodeId: '7', via: 'batcher' },
    );
    expectHs(
      '{"level":"debug","caller":"/home/runner/work/headscale/headscale/hscontrol/mapper/batcher_lockfree.go:136","node.id":7,"time":1759312800,"message":"Node disconnected from batcher because all connections removed, keeping entry for rapid reconnection"}',
      { kind: 'node-disconnected', nodeId: '7', via: 'batcher' },
    );
    expectHs('2025-10-01T10:15:00Z INF Cleaning up node that has been offline for too long node.id=7 offline_duration=15m0s', { kind: 'node-disconnected', nodeId: '7', via: 'batcher' });
  });

  it('reads the 0.29 wording (batcher.go), including the real #3346 line', () => {
    expectHs(
      '{"level":"debug","node.id":130,"caller":"/home/runner/work/headscale/headscale/hscontrol/mapper/batcher.go:361","total.duration":943128.361651,"active.connections":17,"time":1782466958,"message":"node connection established in batcher"}',
      { kind: 'node-connected', nodeId: '130', via: 'batcher' },
    );
    expectHs(`2026-11-26T08:19:34Z DBG ${CALLER}/mapper/batcher.go:398 > node disconnected from batcher, keeping entry for rapid reconnection node.id=7`, {
      kind: 'node-disconnected',
      nodeId: '7',
      via: 'batcher',
    });
    expectHs('{"level":"info","node.id":7,"offline_duration":900000,"time":1795682074,"message":"cleaning up node that has been offline for too long"}', {
      kind: 'node-disconnected',
      nodeId: '7',
      via: 'batcher',
    });
  });

  it('ignores the batcher lines that are not a change of the node', () => {
    expect(hs('2026-11-26T08:19:34Z DBG node connection removed but keeping online, other connections remain active.connections=1 node.id=7')).toBeUndefined();
    expect(hs('{"level":"debug","node.id":7,"time":1795681174,"message":"node added to batcher"}')).toBeUndefined();
  });
});

describe('map stream failures on the server', () => {
  it('0.22: Cannot write data / Could not write the map response (real #838 line)', () => {
    expectHs('2022-09-27T00:00:01+01:00 ERR Cannot write data error="http2: stream closed" channel=pollData handler=PollNetMapStream machine=cl noise=true', {
      kind: 'map-stream-error',
      nodeId: 'cl',
      nodeName: 'cl',
      message: 'Cannot write data',
      error: 'http2: stream closed',
    });
    expectHs('2023-05-10T10:00:00Z ERR Could not write the map response error="client disconnected" channel=update handler=PollNetMapStream machine=nas-01 noise=true', {
      kind: 'map-stream-error',
      nodeId: 'nas-01',
      nodeName: 'nas-01',
      message: 'Could not write the map response',
      error: 'client disconnected',
    });
  });

  it('0.23–0.26: the mapSession-suffixed messages and the poll path’s Failed to write response', () => {
    // v0.25.1 poll.go:339 m.errf(err, "could not write the map response(%s), for mapSession: %p", update.Type.String(), m)
    expectHs(
      `2025-03-01T10:00:00Z ERR ${CALLER}/poll.go:339 > could not write the map response(full), for mapSession: 0xc000ab1200 error="client disconnected" node=nas-01 node.id=7 omitPeers=false readOnly=false stream=true`,
      { kind: 'map-stream-error', nodeId: '7', nodeName: 'nas-01', message: 'could not write the map response', error: 'client disconnected' },
    );
    expectHs(
      '{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:562","readOnly":false,"omitPeers":true,"stream":false,"node.id":7,"node":"nas-01","error":"write tcp 172.18.0.2:8080->172.18.0.5:41234: write: broken pipe","time":1740823200,"message":"Failed to write response"}',
      { kind: 'map-stream-error', nodeId: '7', nodeName: 'nas-01', message: 'Failed to write response', error: 'write tcp 172.18.0.2:8080->172.18.0.5:41234: write: broken pipe' },
    );
    // The same message from an HTTP handler that serves no node is not map evidence.
    expect(hs('2025-03-01T10:00:00Z ERR Failed to write response error="broken pipe"')).toBeUndefined();
  });

  it('0.27–0.29: cannot write update to client, failed to apply change, stale connections', () => {
    expectHs(`2026-11-26T08:19:34Z ERR ${CALLER}/poll.go:301 > cannot write update to client error="client disconnected" chan=0xc0000b41c0 component=poll node.id=7 node.name=nas-01`, {
      kind: 'map-stream-error',
      nodeId: '7',
      nodeName: 'nas-01',
      message: 'cannot write update to client',
      error: 'client disconnected',
    });
    expectHs('{"level":"error","error":"node not found","node.id":12,"reason":"node updated","time":1795681174,"message":"failed to apply change"}', {
      kind: 'map-stream-error',
      nodeId: '12',
      message: 'failed to apply change',
      error: 'node not found',
    });
    expectHs('2026-11-26T08:19:34Z WRN send: connection failed error="connection c1a2b3: timeout sending to channel (likely stale connection)" conn.id=c1a2b3 node.id=7', {
      kind: 'map-stream-error',
      nodeId: '7',
      message: 'send: connection failed',
      error: 'connection c1a2b3: timeout sending to channel (likely stale connection)',
    });
  });
});

describe('API key rejections', () => {
  it('names the client address (without its port) for every release’s wording', () => {
    expectHs('2026-11-26T08:19:34Z INF invalid token client_address=172.18.0.9:51234', { kind: 'api-key-rejected', clientAddress: '172.18.0.9', reason: 'invalid' });
    expectHs(`2026-11-26T08:19:34Z INF ${CALLER}/app.go:484 > failed to validate token error="failed to validate api key: record not found" client_address=[fd7a:115c:a1e0::9]:51234`, {
      kind: 'api-key-rejected',
      clientAddress: 'fd7a:115c:a1e0::9',
      reason: 'validation-failed',
    });
    expectHs('{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/app.go:470","client_address":"203.0.113.4:40000","time":1795681174,"message":"missing \\"Bearer \\" prefix in \\"Authorization\\" header"}', {
      kind: 'api-key-rejected',
      clientAddress: '203.0.113.4',
      reason: 'missing-bearer',
    });
  });
});

describe('TLS on the server', () => {
  it('reads Go’s handshake error line, with the peer and the cause', () => {
    expectHs('2026/11/26 08:19:34 http: TLS handshake error from 203.0.113.7:51234: remote error: tls: bad certificate', {
      kind: 'tls-error',
      side: 'server',
      peer: '203.0.113.7',
      cause: 'remote error: tls: bad certificate',
      fatal: false,
    });
    expectHs('2026/11/26 08:19:34 http: TLS handshake error from [2001:db8::7]:443: EOF', { kind: 'tls-error', side: 'server', peer: '2001:db8::7', cause: 'EOF', fatal: false });
  });

  it('marks autocert failures that leave Headscale without a certificate as fatal, and scanner noise as not', () => {
    const cause = 'acme/autocert: unable to authorize "hs.example.com"; challenge "tls-alpn-01" failed with error: acme: authorization error for hs.example.com: 403 urn:ietf:params:acme:error:unauthorized';
    expectHs(`2026/11/26 08:19:34 http: TLS handshake error from 198.51.100.3:40000: ${cause}`, { kind: 'tls-error', side: 'server', peer: '198.51.100.3', cause, acme: true, fatal: true });
    expectHs('2026/11/26 08:19:34 http: TLS handshake error from 198.51.100.3:40000: acme/autocert: missing server name', {
      kind: 'tls-error',
      side: 'server',
      peer: '198.51.100.3',
      cause: 'acme/autocert: missing server name',
      acme: true,
      fatal: false,
    });
    expectHs('{"level":"error","error":"Post \\"https://acme-v02.api.letsencrypt.org/acme/new-order\\": dial tcp: lookup acme-v02.api.letsencrypt.org: no such host","url":"https://acme-v02.api.letsencrypt.org/acme/new-order","time":1795681174,"message":"acme request failed"}', {
      kind: 'tls-error',
      side: 'server',
      peer: 'acme-v02.api.letsencrypt.org',
      cause: 'Post "https://acme-v02.api.letsencrypt.org/acme/new-order": dial tcp: lookup acme-v02.api.letsencrypt.org: no such host',
      acme: true,
      fatal: false,
    });
  });
});

describe('Tailscale client failure signatures', () => {
  it('classifies rejected and expired keys as auth', () => {
    for (const [error, cls] of [
      ['register request: http 401: authkey expired', 'auth'],
      ['register request: http 401: invalid pre auth key', 'auth'],
      ['invalid key: API key does not exist', 'auth'],
      ['control server is too old; no noise key', 'auth'],
      ['cannot decrypt response', 'auth'],
    ] as const) {
      expectTs(`2026/04/23 20:17:08 Received error: ${error}`, { kind: 'control-error', error, via: 'received-error', class: cls });
    }
  });

  it('classifies TLS failures fetching the control key, naming the control host', () => {
    const error = 'fetch control key: Get "https://hs.example.com/key?v=131": tls: failed to verify certificate: x509: certificate signed by unknown authority';
    expectTs(`2026/11/26 08:19:34 Received error: ${error}`, { kind: 'control-error', error, via: 'received-error', class: 'tls', peer: 'hs.example.com' });
  });

  it('classifies a proxy answering the /ts2021 upgrade with 3xx/4xx', () => {
    const error =
      'register request: Post "https://hs.example.com/machine/register": all connection attempts failed (HTTP: unexpected HTTP response: 301 Moved Permanently, HTTPS: unexpected HTTP response: 400 Bad Request)';
    expectTs(`Received error: ${error}`, { kind: 'control-error', error, via: 'received-error', class: 'proxy', peer: 'hs.example.com' });
  });

  it('reads lite map update errors as control-path errors', () => {
    const line = '2026/05/21 14:30:49 control: lite map update error after 5.681s: Post "https://hs.example.com/machine/map": read tcp 10.0.0.2:48482->10.0.0.1:443: read: connection reset by peer';
    expectTs(line, {
      kind: 'control-error',
      error: 'Post "https://hs.example.com/machine/map": read tcp 10.0.0.2:48482->10.0.0.1:443: read: connection reset by peer',
      via: 'lite-map-update',
      class: 'other',
      peer: 'hs.example.com',
    });
  });

  it('reads the logged (not enforced) certificate warning of Noise dials', () => {
    expectTs('2026/11/26 08:19:34 control: warning: TLS cert verificication for "hs.example.com" failed: x509: certificate has expired or is not yet valid', {
      kind: 'tls-error',
      side: 'client',
      peer: 'hs.example.com',
      cause: 'x509: certificate has expired or is not yet valid',
      fatal: false,
    });
  });

  it('reads ipn state switches', () => {
    expectTs('2026/11/26 08:19:34 Switching ipn state Running -> NeedsLogin (WantRunning=true, nm=true)', { kind: 'ipn-state', from: 'Running', to: 'NeedsLogin' });
    expectTs('2023/07/30 18:18:47 Switching ipn state NeedsLogin -> Starting (WantRunning=true, nm=true)', { kind: 'ipn-state', from: 'NeedsLogin', to: 'Starting' });
  });
});
