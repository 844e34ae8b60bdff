import { describe, expect, it } from 'vitest';
import type { Finding } from '../../src/parsers/finding.js';
import { headscaleParser } from '../../src/parsers/headscale.js';
import { EVIDENCE_MAX } from '../../src/parsers/parser.js';

const AT = 1_795_681_174_000;
const ORIGIN = 'headscale';

function parse(line: string): Finding | undefined {
  return headscaleParser.parse(line, AT, ORIGIN);
}

/** Asserts the exact finding (no extra keys), with the raw line as evidence. */
function expectFinding(line: string, expected: Record<string, unknown>): void {
  expect(parse(line)).toStrictEqual({ ...expected, at: AT, origin: ORIGIN, line });
}

// Fixed caller prefix as the official image prints it (cwd `/`).
const CALLER = 'home/runner/work/headscale/headscale/hscontrol';

describe('headscale 0.29 (reference §12 samples)', () => {
  const jsonConnect =
    '{"level":"info","node.id":7,"node.name":"nas-01","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":true,"user.name":"alice","time":1795681174,"message":"node connected"}';
  const jsonPollConnect =
    '{"level":"info","component":"poll","node.id":7,"node.name":"nas-01","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":false,"user.name":"alice","omit_peers":false,"stream":true,"caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:251","chan":"0xc0000b40e0","time":1795681174,"message":"node has connected"}';
  const jsonDisconnect =
    '{"level":"info","node.id":7,"node.name":"nas-01","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":false,"user.name":"alice","time":1795681174,"message":"node disconnected"}';
  const jsonPollDisconnect =
    '{"level":"info","component":"poll","node.id":7,"node.name":"nas-01","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":false,"user.name":"alice","omit_peers":false,"stream":true,"caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:211","chan":"0xc0000b40e0","time":1795681174,"message":"node has disconnected"}';
  const textConnect =
    '2026-11-26T08:19:34Z INF node connected machine.key=[RoBrF] node.expired=false node.id=7 node.is_tagged=false node.key=[wZ9Nr] node.name=nas-01 node.online=true user.name=alice';
  const textPollConnect = `2026-11-26T08:19:34Z INF ${CALLER}/poll.go:251 > node has connected chan=0xc0000b41c0 component=poll machine.key=[RoBrF] node.expired=false node.id=7 node.is_tagged=false node.key=[wZ9Nr] node.name=nas-01 node.online=false omit_peers=false stream=true user.name=alice`;
  const textDisconnect =
    '2026-11-26T08:19:34Z INF node disconnected machine.key=[RoBrF] node.expired=false node.id=7 node.is_tagged=false node.key=[wZ9Nr] node.name=nas-01 node.online=false user.name=alice';
  const textPollDisconnect = `2026-11-26T08:19:34Z INF ${CALLER}/poll.go:211 > node has disconnected chan=0xc0000b41c0 component=poll machine.key=[RoBrF] node.expired=false node.id=7 node.is_tagged=false node.key=[wZ9Nr] node.name=nas-01 node.online=false omit_peers=false stream=true user.name=alice`;

  it('reads the state connect/disconnect lines in both formats', () => {
    const connected = { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', via: 'state' };
    const disconnected = { ...connected, kind: 'node-disconnected' };
    expectFinding(jsonConnect, connected);
    expectFinding(textConnect, connected);
    expectFinding(jsonDisconnect, disconnected);
    expectFinding(textDisconnect, disconnected);
  });

  it('reads the poll connect/disconnect lines with the chan field as session', () => {
    expectFinding(jsonPollConnect, { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000b40e0', via: 'poll' });
    expectFinding(jsonPollDisconnect, { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000b40e0', via: 'poll' });
    expectFinding(textPollConnect, { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000b41c0', via: 'poll' });
    expectFinding(textPollDisconnect, { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000b41c0', via: 'poll' });
  });

  it('accepts fields in any order and a string node.id in JSON', () => {
    expectFinding('{"message":"node connected","node.name":"nas-01","level":"info","node.id":"42","time":1}', {
      kind: 'node-connected',
      nodeId: '42',
      nodeName: 'nas-01',
      via: 'state',
    });
  });

  it('reads a Go-quoted node name in text', () => {
    expectFinding('2026-11-26T08:19:34Z INF node connected node.id=9 node.name="living room tv" user.name=alice', {
      kind: 'node-connected',
      nodeId: '9',
      nodeName: 'living room tv',
      via: 'state',
    });
  });

  it('reads unsupported client connected with 0.27+ fields', () => {
    const expected = { kind: 'unsupported-client', clientVersion: '1.74', clientCapVer: 106, minimumVersion: '1.80', minimumCapVer: 113 };
    expectFinding(
      '{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:281","minimum_cap_ver":113,"client_cap_ver":106,"minimum_version":"v1.80","client_version":"v1.74","node.key":"[wZ9Nr]","machine.key":"[RoBrF]","time":1795681174,"message":"unsupported client connected"}',
      expected,
    );
    expectFinding(
      `2026-11-26T08:19:34Z ERR ${CALLER}/noise.go:281 > unsupported client connected client_cap_ver=106 client_version=v1.74 machine.key=[RoBrF] minimum_cap_ver=113 minimum_version=v1.80 node.key=[wZ9Nr]`,
      expected,
    );
  });

  it('keeps an empty client_version out of the finding (capver missing from the table)', () => {
    expectFinding(
      `2026-11-26T08:19:34Z ERR ${CALLER}/noise.go:281 > unsupported client connected client_cap_ver=107 client_version= machine.key=[RoBrF] minimum_cap_ver=113 minimum_version=v1.80 node.key=[wZ9Nr]`,
      { kind: 'unsupported-client', clientCapVer: 107, minimumVersion: '1.80', minimumCapVer: 113 },
    );
  });

  it('reads the lower-case no-upgrade-header warning as a ts2021 proxy problem', () => {
    expectFinding(
      '{"level":"warn","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:107","time":1795681174,"message":"no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through."}',
      { kind: 'proxy-no-upgrade', endpoint: 'ts2021' },
    );
    expectFinding(
      `2026-11-26T08:19:34Z WRN ${CALLER}/noise.go:107 > no upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.`,
      { kind: 'proxy-no-upgrade', endpoint: 'ts2021' },
    );
  });

  it('turns a Noise-upgrade rejection of an old client into unsupported-client', () => {
    const expected = { kind: 'unsupported-client', clientVersion: '1.74', clientCapVer: 106 };
    expectFinding(
      '{"level":"error","error":"upgrading noise connection: unsupported client version: v1.74 (106)","code":500,"time":1795681174,"message":"http internal server error"}',
      expected,
    );
    expectFinding(
      '2026-11-26T08:19:34Z ERR http internal server error error="upgrading noise connection: unsupported client version: v1.74 (106)" code=500',
      expected,
    );
  });

  it('reports other Noise-upgrade failures with their cause', () => {
    const expected = { kind: 'noise-upgrade-failed', cause: 'no next protocol in HTTP request' };
    expectFinding(
      '{"level":"error","error":"upgrading noise connection: no next protocol in HTTP request","code":500,"time":1795681174,"message":"http internal server error"}',
      expected,
    );
    expectFinding(
      '2026-11-26T08:19:34Z ERR http internal server error error="upgrading noise connection: no next protocol in HTTP request" code=500',
      expected,
    );
  });

  it('ignores internal server errors that are not about the Noise upgrade', () => {
    expect(parse('2026-11-26T08:19:34Z ERR http internal server error error="database is locked" code=500')).toBeUndefined();
    expect(parse('{"level":"error","error":"database is locked","code":500,"time":1,"message":"http internal server error"}')).toBeUndefined();
  });

  it('reads the startup version and minimum-client lines', () => {
    expectFinding('{"level":"info","version":"0.29.2","commit":"abc1234","time":1795681411,"message":"starting headscale"}', {
      kind: 'server-version',
      version: '0.29.2',
      commit: 'abc1234',
    });
    expectFinding('2026-11-26T08:23:31Z INF starting headscale commit=abc1234 version=0.29.2', {
      kind: 'server-version',
      version: '0.29.2',
      commit: 'abc1234',
    });
    expectFinding('2026-11-26T08:23:31Z INF starting headscale commit=abc1234 version=v0.29.2', {
      kind: 'server-version',
      version: '0.29.2',
      commit: 'abc1234',
    });
    expectFinding('{"level":"info","minimum_version":"v1.80","time":1795681411,"message":"Clients with a lower minimum version will be rejected"}', {
      kind: 'server-minimum-client',
      minimumVersion: '1.80',
    });
    expectFinding('2026-11-26T08:23:31Z INF Clients with a lower minimum version will be rejected minimum_version=v1.80', {
      kind: 'server-minimum-client',
      minimumVersion: '1.80',
    });
  });

  it('reads both TLS / server_url mismatch warnings', () => {
    const without = 'listening without TLS but ServerURL does not start with http://';
    const withTls = 'listening with TLS but ServerURL does not start with https://';
    expectFinding(`{"level":"warn","time":1795681411,"message":"${without}"}`, { kind: 'tls-url-mismatch', message: without });
    expectFinding(`2026-11-26T08:23:31Z WRN ${without}`, { kind: 'tls-url-mismatch', message: without });
    expectFinding(`{"level":"warn","time":1795681411,"message":"${withTls}"}`, { kind: 'tls-url-mismatch', message: withTls });
    expectFinding(`2026-11-26T08:23:31Z WRN ${CALLER}/app.go:1084 > ${withTls}`, { kind: 'tls-url-mismatch', message: withTls });
  });

  it('returns nothing for access-log and batcher chatter', () => {
    const irrelevant = [
      '{"level":"info","method":"POST","path":"/machine/map","proto":"HTTP/2.0","remote":"172.18.0.5:41234","status":200,"bytes":0,"elapsed":3723.456,"time":1795681411,"message":"http request"}',
      '{"level":"info","method":"POST","path":"/ts2021","proto":"HTTP/1.1","remote":"172.18.0.5:41230","status":101,"bytes":0,"elapsed":3724.001,"time":1795681411,"message":"http request"}',
      '{"level":"debug","disconnect_epoch":3,"active_sessions":1,"time":1795681411,"message":"session released, other sessions keep node online"}',
      '{"level":"debug","component":"poll","node.id":130,"node.name":"user.name-Latitude-E7470","machine.key":"[RoBrF]","node.key":"[wZ9Nr]","node.is_tagged":false,"node.expired":false,"node.online":true,"user.name":"user.name@domain.com","omit_peers":false,"stream":true,"caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:258","time":1782466958,"message":"node added to batcher"}',
      '2026-11-26T08:23:31Z INF http request bytes=0 elapsed=3723.456 method=POST path=/machine/map proto=HTTP/2.0 remote=172.18.0.5:41234 status=200',
      '2026-11-26T08:23:31Z INF http request bytes=0 elapsed=3724.001 method=POST path=/ts2021 proto=HTTP/1.1 remote=172.18.0.5:41230 status=101',
      '2026-11-26T08:23:31Z DBG session released, other sessions keep node online active_sessions=1 disconnect_epoch=3',
      '2026-11-26T08:19:34Z INF node connectedness changed node.id=7',
      '{"level":"info","time":1,"message":"node connected later"}',
    ];
    for (const line of irrelevant) expect(parse(line), line).toBeUndefined();
  });
});

describe('headscale 0.27 / 0.28', () => {
  it('reads the capitalised state lines', () => {
    expectFinding('{"level":"info","node.id":7,"node.name":"nas-01","time":1795681174,"message":"Node connected"}', {
      kind: 'node-connected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
    expectFinding('2026-11-26T08:19:34Z INF Node connected node.id=7 node.name=nas-01', {
      kind: 'node-connected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
    expectFinding('{"level":"info","node.id":7,"node.name":"nas-01","time":1795681174,"message":"Node disconnected"}', {
      kind: 'node-disconnected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
    expectFinding('2026-11-26T08:19:44Z INF Node disconnected node.id=7 node.name=nas-01', {
      kind: 'node-disconnected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
  });

  it('takes the session from the chan pointer in the poll message', () => {
    expectFinding(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:208","omitPeers":false,"stream":true,"node.id":7,"node.name":"nas-01","time":1795681174,"message":"node has connected, mapSession: 0xc0000b40e0, chan: 0xc0000a0018"}',
      { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a0018', via: 'poll' },
    );
    expectFinding(
      `2026-11-26T08:19:34Z INF ${CALLER}/poll.go:208 > node has connected, mapSession: 0xc0000b41c0, chan: 0xc0000a2018 node.id=7 node.name=nas-01 omitPeers=false stream=true`,
      { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a2018', via: 'poll' },
    );
    expectFinding(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:174","omitPeers":false,"stream":true,"node.id":7,"node.name":"nas-01","time":1795681184,"message":"node has disconnected, mapSession: 0xc0000b40e0, chan: 0xc0000a0018"}',
      { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a0018', via: 'poll' },
    );
    expectFinding(
      `2026-11-26T08:19:44Z INF ${CALLER}/poll.go:174 > node has disconnected, mapSession: 0xc0000b41c0, chan: 0xc0000a2018 node.id=7 node.name=nas-01 omitPeers=false stream=true`,
      { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a2018', via: 'poll' },
    );
  });

  it('reads Starting Headscale', () => {
    expectFinding('{"level":"info","version":"v0.28.0","commit":"4f1b3c2","time":1795681411,"message":"Starting Headscale"}', {
      kind: 'server-version',
      version: '0.28.0',
      commit: '4f1b3c2',
    });
    expectFinding('2026-11-26T08:23:31Z INF Starting Headscale commit=4f1b3c2 version=v0.28.0', {
      kind: 'server-version',
      version: '0.28.0',
      commit: '4f1b3c2',
    });
  });

  it('reads the capitalised TS2021 and DERP no-upgrade warnings, including a systemd caller path', () => {
    const ts2021 =
      'No Upgrade header in TS2021 request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.';
    const derp =
      'No Upgrade header in DERP server request. If headscale is behind a reverse proxy, make sure it is configured to pass WebSockets through.';
    expectFinding(`{"level":"warn","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:65","time":1795681174,"message":"${ts2021}"}`, {
      kind: 'proxy-no-upgrade',
      endpoint: 'ts2021',
    });
    expectFinding(`2026-11-26T08:19:34Z WRN ../../../${CALLER}/noise.go:65 > ${ts2021}`, { kind: 'proxy-no-upgrade', endpoint: 'ts2021' });
    expectFinding(`2026-11-26T08:19:34Z WRN go/src/headscale/hscontrol/noise.go:62 > ${ts2021}`, { kind: 'proxy-no-upgrade', endpoint: 'ts2021' });
    expectFinding(`{"level":"warn","time":1795681174,"message":"${derp}"}`, { kind: 'proxy-no-upgrade', endpoint: 'derp' });
    expectFinding(`2026-11-26T08:19:34Z WRN ${derp}`, { kind: 'proxy-no-upgrade', endpoint: 'derp' });
  });

  it('reads noise upgrade failed: inside http internal server error', () => {
    expectFinding(
      '{"level":"error","error":"noise upgrade failed: unsupported client version: v1.74 (106)","time":1795681174,"message":"http internal server error"}',
      { kind: 'unsupported-client', clientVersion: '1.74', clientCapVer: 106 },
    );
    expectFinding('2026-11-26T08:19:34Z ERR http internal server error error="noise upgrade failed: unsupported client version: v1.74 (106)"', {
      kind: 'unsupported-client',
      clientVersion: '1.74',
      clientCapVer: 106,
    });
    expectFinding('2026-11-26T08:19:34Z ERR http internal server error error="noise upgrade failed: unsupported client version: v1.74.0"', {
      kind: 'unsupported-client',
      clientVersion: '1.74.0',
    });
    expectFinding('{"level":"error","error":"noise upgrade failed: unsupported client version: v1.74.0 (106)","time":1,"message":"http internal server error"}', {
      kind: 'unsupported-client',
      clientVersion: '1.74.0',
      clientCapVer: 106,
    });
    expectFinding('2026-11-26T08:19:34Z ERR http internal server error error="noise upgrade failed: noise handshake failed: decrypting machine key: chacha20poly1305: message authentication failed"', {
      kind: 'noise-upgrade-failed',
      cause: 'noise handshake failed: decrypting machine key: chacha20poly1305: message authentication failed',
    });
    expectFinding('{"level":"error","error":"noise upgrade failed: no next protocol in HTTP request","time":1,"message":"http internal server error"}', {
      kind: 'noise-upgrade-failed',
      cause: 'no next protocol in HTTP request',
    });
  });
});

describe('headscale 0.25 / 0.26', () => {
  it('reads unsupported client connected with node_key fields and full versions', () => {
    const expected = { kind: 'unsupported-client', clientVersion: '1.60.0', clientCapVer: 87, minimumVersion: '1.62.0', minimumCapVer: 88 };
    expectFinding(
      '{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:160","minimum_cap_ver":88,"client_cap_ver":87,"minimum_version":"v1.62.0","client_version":"v1.60.0","node_key":"[wZ9Nr]","machine_key":"[RoBrF]","time":1795681174,"message":"unsupported client connected"}',
      expected,
    );
    expectFinding(
      `2026-11-26T08:19:34Z ERR ${CALLER}/noise.go:160 > unsupported client connected client_cap_ver=87 client_version=v1.60.0 machine_key=[RoBrF] minimum_cap_ver=88 minimum_version=v1.62.0 node_key=[wZ9Nr]`,
      expected,
    );
  });

  it('reads the 0.25 number-only Noise rejection as a capability version', () => {
    expectFinding('{"level":"error","error":"noise upgrade failed: unsupported client version: 87","time":1,"message":"http internal server error"}', {
      kind: 'unsupported-client',
      clientCapVer: 87,
    });
    expectFinding('2026-11-26T08:19:34Z ERR http internal server error error="noise upgrade failed: unsupported client version: 87"', {
      kind: 'unsupported-client',
      clientCapVer: 87,
    });
  });
});

describe('headscale 0.23 – 0.26 poll lines', () => {
  it('reads the real 0.26 connect/disconnect pair (juanfont/headscale#2787) with distinct sessions', () => {
    expectFinding(
      `2025-09-25T13:36:58Z INF ${CALLER}/poll.go:602 > node has connected, mapSession: 0xc0000f3c80, chan: 0xc00030dea0 node=c2k01 node.id=176 omitPeers=false readOnly=false stream=true`,
      { kind: 'node-connected', nodeId: '176', nodeName: 'c2k01', session: '0xc00030dea0', via: 'poll' },
    );
    expectFinding(
      `2025-09-25T13:36:58Z INF ${CALLER}/poll.go:602 > node has disconnected, mapSession: 0xc000e46a80, chan: 0xc0002c0af0 node=c2k01 node.id=176 omitPeers=false readOnly=false stream=true`,
      { kind: 'node-disconnected', nodeId: '176', nodeName: 'c2k01', session: '0xc0002c0af0', via: 'poll' },
    );
  });

  it('reads the JSON form with the hostname in field node', () => {
    expectFinding(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:245","readOnly":false,"omitPeers":false,"stream":true,"node.id":7,"node":"nas-01","time":1795681174,"message":"node has connected, mapSession: 0xc0000b40e0, chan: 0xc0000a0018"}',
      { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a0018', via: 'poll' },
    );
    expectFinding(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/poll.go:218","readOnly":false,"omitPeers":false,"stream":true,"node.id":7,"node":"nas-01","time":1795681180,"message":"node has disconnected, mapSession: 0xc0000b40e0, chan: 0xc0000a0018"}',
      { kind: 'node-disconnected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a0018', via: 'poll' },
    );
    expectFinding(
      `2026-11-26T08:19:34Z INF ${CALLER}/poll.go:245 > node has connected, mapSession: 0xc0000b41c0, chan: 0xc0000a2018 node=nas-01 node.id=7 omitPeers=false readOnly=false stream=true`,
      { kind: 'node-connected', nodeId: '7', nodeName: 'nas-01', session: '0xc0000a2018', via: 'poll' },
    );
  });

  it('reads 0.23/0.24 unsupported client connected with integer capability versions', () => {
    const expected = { kind: 'unsupported-client', clientCapVer: 56, minimumCapVer: 61 };
    expectFinding(
      '{"level":"info","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:210","min_version":61,"client_version":56,"time":1795681174,"message":"unsupported client connected"}',
      expected,
    );
    expectFinding(`2026-11-26T08:19:34Z INF ${CALLER}/noise.go:210 > unsupported client connected client_version=56 min_version=61`, expected);
  });

  it('reads the ≤0.24 noise upgrade failed message with its bare cause', () => {
    expectFinding('2022-09-10T10:00:00Z ERR noise upgrade failed error="no next protocol in HTTP request"', {
      kind: 'noise-upgrade-failed',
      cause: 'no next protocol in HTTP request',
    });
    expectFinding(
      '{"level":"error","caller":"/home/runner/work/headscale/headscale/hscontrol/noise.go:83","error":"no next protocol in HTTP request","time":1662804000,"message":"noise upgrade failed"}',
      { kind: 'noise-upgrade-failed', cause: 'no next protocol in HTTP request' },
    );
    expectFinding(`2022-09-10T10:00:00Z ERR ${CALLER}/noise.go:83 > noise upgrade failed error="unsupported client version: 56"`, {
      kind: 'unsupported-client',
      clientCapVer: 56,
    });
  });
});

describe('headscale 0.22', () => {
  it('uses the machine hostname as node id and name', () => {
    const connected = { kind: 'node-connected', nodeId: 'nas-01', nodeName: 'nas-01', via: 'legacy' };
    const disconnected = { ...connected, kind: 'node-disconnected' };
    expectFinding('{"level":"info","handler":"PollNetMap","noise":true,"machine":"nas-01","time":1683712800,"message":"Client is ready to access the tailnet"}', connected);
    expectFinding('2023-05-10T10:00:00Z INF Client is ready to access the tailnet handler=PollNetMap machine=nas-01 noise=true', connected);
    expectFinding('{"level":"info","handler":"PollNetMapStream","machine":"nas-01","time":1683712900,"message":"The client has closed the connection"}', disconnected);
    expectFinding('2023-05-10T10:01:40Z INF The client has closed the connection handler=PollNetMapStream machine=nas-01', disconnected);
  });

  it('ignores the other long-poll chatter', () => {
    expect(parse('2023-05-10T10:00:00Z INF Sending initial map handler=PollNetMap machine=nas-01 noise=true')).toBeUndefined();
    expect(parse('2023-05-10T10:00:00Z INF Notifying peers handler=PollNetMap machine=nas-01 noise=true')).toBeUndefined();
  });
});

describe('headscale line quirks', () => {
  it('accepts a Docker timestamp in front of either format', () => {
    expectFinding('2026-11-26T08:19:34.123456789Z 2026-11-26T08:19:34Z INF Node connected node.id=7 node.name=nas-01', {
      kind: 'node-connected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
    expectFinding('2026-11-26T08:19:34.123456789Z {"level":"info","node.id":7,"node.name":"nas-01","time":1,"message":"node connected"}', {
      kind: 'node-connected',
      nodeId: '7',
      nodeName: 'nas-01',
      via: 'state',
    });
  });

  it('reads a message with JSON escapes', () => {
    expectFinding('{"level":"warn","time":1,"message":"listening without TLS but ServerURL does not start with http:\\/\\/"}', {
      kind: 'tls-url-mismatch',
      message: 'listening without TLS but ServerURL does not start with http://',
    });
  });

  it('drops a connect line without a node id rather than inventing one', () => {
    expect(parse('2026-11-26T08:19:34Z INF node connected node.name=nas-01')).toBeUndefined();
    expect(parse('{"level":"info","node.id":null,"time":1,"message":"node connected"}')).toBeUndefined();
  });

  it('caps the evidence it keeps', () => {
    const long = `2026-11-26T08:19:34Z INF Node connected node.id=7 node.name=${'x'.repeat(2000)}`;
    const f = parse(long);
    expect(f?.kind).toBe('node-connected');
    expect(f?.line?.length).toBe(EVIDENCE_MAX + 1);
  });

  it('never throws and returns nothing on malformed input', () => {
    const garbage = [
      '',
      '{',
      '}',
      '[]',
      '[{"message":"node connected","node.id":1}]',
      '42',
      'null',
      '{"message":"node connected","node.id":7',
      '{"level":"info","node.id":7,"time":1,"message":"node connected"',
      '{"message":"node connected\\',
      '{"message":"node connected\\x00","node.id":7}',
      '{"message":"node \\uZZZZ connected","node.id":7}',
      '{"message":42}',
      '{"message":["node connected"]}',
      '{"message":"node connected","node.id":{"a":1}}',
      '{"message":"node connected","node.id":7}garbage',
      '2026-11-26T08:19:34Z',
      '2026-11-26T08:19:34Z INF',
      '2026-11-26T08:19:34Z INF node',
      '2026-11-26T08:19:34Z INF node has connected, mapSession: ',
      '2026-11-26T08:19:34Z INF node has connected, mapSession: 0x1, chan: ',
      '2026-11-26T08:19:34Z ERR http internal server error error="unterminated',
      '1 2 3 4 5',
      `{"message":"${'a'.repeat(200_000)}"}`,
      `2026-11-26T08:19:34Z INF ${'node '.repeat(50_000)}`,
      '\u0000\u0001{"message":"node connected","node.id":7}',
    ];
    for (const line of garbage) expect(parse(line), line.slice(0, 80)).toBeUndefined();
  });

  it('survives prototype-looking keys and lone surrogates in JSON', () => {
    expectFinding('{"__proto__":{"x":1},"constructor":"x","message":"unsupported client connected","min_version":61,"client_version":"\\ud800"}', {
      kind: 'unsupported-client',
      minimumCapVer: 61,
      clientVersion: '\ud800',
    });
  });
});
