import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';
import { HeadscaleClient } from '../../../src/sources/headscale/client.js';
import { HeadscaleError } from '../../../src/sources/headscale/types.js';
import { FAKE_RELEASES, FAKE_VERSIONS, YEAR_ONE, startFakeHeadscale, type FakeHeadscale, type FakeRelease } from '../../fakes/headscale/index.js';

const API_KEY = 'hskey-api-abcdefabcdef-SECRETSECRETSECRETSECRET';
const FUTURE = '2099-01-02T03:04:05Z';

let fakes: FakeHeadscale[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

async function fake(release: FakeRelease, extra: Partial<Parameters<typeof startFakeHeadscale>[0]> = {}): Promise<FakeHeadscale> {
  const f = await startFakeHeadscale({
    release,
    apiKey: API_KEY,
    users: ['alice', 'bob'],
    nodes: [
      { name: 'nas-01', user: 'alice', online: true, expiry: null, tags: ['tag:nas'] },
      { name: 'laptop', user: 'bob', online: false, expiry: YEAR_ONE },
      { name: 'phone', user: 'bob', online: true, expiry: FUTURE },
    ],
    ...extra,
  });
  fakes.push(f);
  return f;
}

function client(f: { url: string }, apiKey = API_KEY, timeoutMs = 2000): HeadscaleClient {
  return new HeadscaleClient({ url: f.url, apiKey, timeoutMs });
}

async function failure(p: Promise<unknown>): Promise<HeadscaleError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(HeadscaleError);
    const e = err as HeadscaleError;
    // Operator-facing text: never the key, never a stack or HTML.
    expect(e.message).not.toContain('SECRET');
    expect(e.message).not.toMatch(/<html|<!doctype|\n\s+at /i);
    return e;
  }
  throw new Error('expected the call to fail');
}

const minor = (r: FakeRelease) => Number(r.split('.')[1]);

describe.each(FAKE_RELEASES)('HeadscaleClient against fake Headscale %s', (release) => {
  const m = minor(release);

  it('detects the release once and speaks its dialect', async () => {
    const f = await fake(release);
    const c = client(f);
    const info = await c.serverInfo();
    if (m >= 27) {
      expect(info).toMatchObject({ detectedBy: 'version-endpoint', release: `0.${m}`, version: FAKE_VERSIONS[release].slice(1) });
    } else {
      expect(info.detectedBy).toBe('probe');
      // 0.24 and 0.25 have identical APIs; probing cannot tell them apart.
      expect(info.release).toBe(m === 25 ? '0.24' : `0.${m}`);
    }
    await c.listNodes();
    await c.listUsers();
    await c.getNode('1');
    expect(f.requestsTo('GET', '/version')).toHaveLength(1);
    expect(f.requestsTo('GET', m === 22 ? '/api/v1/machine' : '/api/v1/node').length).toBeGreaterThanOrEqual(1);
    expect(f.requestsTo('GET', m === 22 ? '/api/v1/node' : '/api/v1/machine').length).toBe(m === 22 ? 1 : 0);
  });

  it('lists nodes with string ids, both "never" expiry forms as null, and tags', async () => {
    const f = await fake(release);
    const nodes = await client(f).listNodes();
    expect(nodes.map((n) => [n.id, n.name, n.user?.name, n.online])).toEqual([
      ['1', 'nas-01', 'alice', true],
      ['2', 'laptop', 'bob', false],
      ['3', 'phone', 'bob', true],
    ]);
    expect(nodes[0]!.expiry).toBeNull();
    expect(nodes[1]!.expiry).toBeNull(); // year 1
    expect(nodes[2]!.expiry).toBe(FUTURE);
    expect(nodes[0]!.tags).toEqual(['tag:nas']);
    expect(nodes[0]!.ipAddresses).toContain('100.64.0.1');
    const bobs = await client(f).listNodes('bob');
    expect(bobs.map((n) => n.name)).toEqual(['laptop', 'phone']);
    expect(f.requests.at(-1)!.query).toEqual({ user: 'bob' });
  });

  it('gets, expires and deletes a node; delete reaches the server exactly once', async () => {
    const f = await fake(release);
    const c = client(f);
    expect((await c.getNode('3')).name).toBe('phone');
    const expired = await c.expireNode('3');
    expect(expired.expiry).not.toBeNull();
    expect(Date.parse(expired.expiry!)).toBeLessThanOrEqual(Date.now());
    await c.deleteNode('2');
    const nodePath = m === 22 ? '/api/v1/machine/2' : '/api/v1/node/2';
    expect(f.requestsTo('DELETE', nodePath)).toHaveLength(1);
    expect(f.state.nodes.map((n) => n.id)).toEqual(['1', '3']);
  });

  it('reports an unknown node as not-found (500 "record not found" ≤ 0.26, 404 code 5 from 0.27)', async () => {
    const f = await fake(release);
    const c = client(f);
    const get = await failure(c.getNode('99'));
    expect(get.code).toBe('not-found');
    expect(get.status).toBe(m >= 27 ? 404 : 500);
    expect(get.message).toContain('reading node 99');
    expect((await failure(c.deleteNode('99'))).code).toBe('not-found');
    expect((await failure(c.expireNode('99'))).code).toBe('not-found');
    const bad = await failure(c.getNode('abc'));
    expect(bad.code).toBe('rejected');
    expect(f.requestsTo('GET', '*').filter((r) => r.path.endsWith('/abc'))).toHaveLength(0);
  });

  it('lists users with string ids', async () => {
    const f = await fake(release);
    expect(await client(f).listUsers()).toEqual([
      { id: '1', name: 'alice' },
      { id: '2', name: 'bob' },
    ]);
  });

  it('creates a pre-auth key with an explicit expiration and the user in the release form', async () => {
    const f = await fake(release);
    const c = client(f);
    const expiration = new Date(Date.now() + 3_600_000);
    const key = await c.createPreAuthKey({ user: 'bob', reusable: true, ephemeral: false, expiration, tags: [] });
    const posts = f.requestsTo('POST', '/api/v1/preauthkey');
    expect(posts).toHaveLength(1);
    const sent = posts[0]!.body as Record<string, unknown>;
    expect(sent.expiration).toBe(expiration.toISOString());
    expect(sent.user).toBe(m <= 25 ? 'bob' : '2');
    if (m >= 26) expect(f.requestsTo('GET', '/api/v1/user').some((r) => m < 24 || r.query.name === 'bob')).toBe(true);
    expect(key.user).toEqual({ id: '2', name: 'bob' });
    expect(key.reusable).toBe(true);
    expect(key.expiration).toBe(f.state.preAuthKeys[0]!.expiration);
    expect(key.key).toBe(f.state.preAuthKeys[0]!.key); // the full secret, only in this answer
    expect(f.state.preAuthKeys[0]!.expiration).not.toBe(YEAR_ONE);
  });

  it('lists and expires pre-auth keys', async () => {
    const f = await fake(release);
    const c = client(f);
    const expiration = new Date(Date.now() + 3_600_000);
    const created = await c.createPreAuthKey({ user: 'alice', reusable: false, ephemeral: true, expiration, tags: [] });
    const listed = await c.listPreAuthKeys();
    expect(listed).toHaveLength(1);
    expect(listed[0]!.user?.name).toBe('alice');
    expect(listed[0]!.ephemeral).toBe(true);
    if (m >= 28) expect(listed[0]!.key).toMatch(/\*\*\*$/); // masked
    expect(await c.listPreAuthKeys('bob')).toHaveLength(0);
    await c.expirePreAuthKey(created);
    const expire = f.requestsTo('POST', '/api/v1/preauthkey/expire');
    expect(expire).toHaveLength(1);
    if (m >= 28) expect(expire[0]!.body).toEqual({ id: created.id });
    else expect(expire[0]!.body).toEqual({ user: m <= 25 ? 'alice' : '1', key: created.key });
    expect(Date.parse(f.state.preAuthKeys[0]!.expiration)).toBeLessThanOrEqual(Date.now());
  });

  it('handles tag-only keys where the release allows them', async () => {
    const f = await fake(release);
    const c = client(f);
    const expiration = new Date(Date.now() + 3_600_000);
    if (m >= 28) {
      const key = await c.createPreAuthKey({ reusable: false, ephemeral: false, expiration, tags: ['tag:ci'] });
      expect(key.user).toBeNull();
      expect(key.aclTags).toEqual(['tag:ci']);
      expect(f.requestsTo('POST', '/api/v1/preauthkey')[0]!.body).not.toHaveProperty('user');
    } else {
      const e = await failure(c.createPreAuthKey({ reusable: false, ephemeral: false, expiration, tags: ['tag:ci'] }));
      expect(e.code).toBe('unsupported');
      expect(e.message).toContain('0.28');
      expect(f.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
    }
  });

  it('reports an unknown user as not-found', async () => {
    const f = await fake(release);
    const e = await failure(
      client(f).createPreAuthKey({ user: 'mallory', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 60_000), tags: [] }),
    );
    expect(e.code).toBe('not-found');
    expect(e.message).toContain('user');
    // Listing by an unknown user: the server answers 500 "user not found" in every release.
    expect((await failure(client(f).listNodes('mallory'))).code).toBe('not-found');
  });

  it('turns a rejected API key into one actionable error (500 "Unauthorized" ≤ 0.26)', async () => {
    const f = await fake(release);
    const c = client(f, 'hskey-api-000000000000-SECRETWRONGWRONGWRONG');
    const e = await failure(c.listNodes());
    expect(e.code).toBe('unauthorized');
    expect(e.message).toMatch(/API key/);
    expect(e.message).toContain('HEADSCALE_API_KEY');
    if (m <= 26) expect(e.status).toBe(500);
    else expect(e.status).toBe(401);
    // A key that goes bad later.
    const good = client(f);
    await good.listNodes();
    f.rejectKey();
    expect((await failure(good.listNodes())).code).toBe('unauthorized');
  });

  it('sends the key only as a Bearer header on /api, never on /health or /version', async () => {
    const f = await fake(release);
    const c = client(f);
    await c.health();
    await c.listNodes();
    for (const r of f.requests) {
      if (r.path.startsWith('/api/')) expect(r.authorization).toBe(`Bearer ${API_KEY}`);
      else expect(r.authorization).toBeUndefined();
      expect(JSON.stringify(r.query)).not.toContain('SECRET');
    }
  });

  it('reports health (and database connectivity from 0.27)', async () => {
    const f = await fake(release);
    const c = client(f);
    expect(await c.health()).toEqual(m >= 27 ? { ok: true, databaseConnectivity: true } : { ok: true });
    f.state.databaseOk = false;
    expect(await c.health()).toEqual(m >= 27 ? { ok: false, databaseConnectivity: false } : { ok: false });
    // Liveness does not need the key: a rejected key does not make a live server look dead.
    f.state.databaseOk = true;
    expect((await client(f, 'wrong-key').health()).ok).toBe(true);
  });
});

describe('HeadscaleClient transport failures', () => {
  it('never writes the API key to the log, even on failures', async () => {
    const lines: string[] = [];
    const logger = createLogger('debug', { write: (l: string) => lines.push(l) });
    const f = await fake('0.25');
    const c = new HeadscaleClient({ url: f.url, apiKey: API_KEY, timeoutMs: 2000, logger });
    await c.listNodes();
    f.rejectKey();
    await failure(c.listNodes());
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('SECRET');
  });

  it('reports a closed port as unreachable, naming the URL but not the key', async () => {
    const port = await freePort();
    const e = await failure(new HeadscaleClient({ url: `http://127.0.0.1:${port}`, apiKey: API_KEY, timeoutMs: 2000 }).listNodes());
    expect(e.code).toBe('unreachable');
    expect(e.message).toContain(`http://127.0.0.1:${port}`);
    expect(e.message).toContain('connection refused');
  });

  it('reports a server that went down as unreachable and recovers when it is back', async () => {
    const f = await fake('0.29');
    const c = client(f);
    await c.listNodes();
    await f.down();
    expect((await failure(c.listNodes())).code).toBe('unreachable');
    await f.up();
    expect(await c.listNodes()).toHaveLength(3);
  });

  it('times out a slow server (HEADSCALE_TIMEOUT_SECONDS)', async () => {
    const f = await fake('0.26');
    const c = client(f, API_KEY, 150);
    await c.serverInfo();
    f.setDelay(1500);
    const e = await failure(c.listNodes());
    expect(e.code).toBe('timeout');
    expect(e.message).toContain('HEADSCALE_TIMEOUT_SECONDS');
  });

  it('retries detection after a failed first attempt', async () => {
    const f = await fake('0.29');
    await f.down();
    const c = client(f);
    expect((await failure(c.serverInfo())).code).toBe('unreachable');
    await f.up();
    expect((await c.serverInfo()).version).toBe('0.29.2');
  });

  it('never passes an HTML proxy page through to the operator', async () => {
    const f = await fake('0.29');
    const c = client(f);
    await c.serverInfo();
    f.injectAnswer({ path: '/api/v1/node', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' });
    const gw = await failure(c.listNodes());
    expect(gw.code).toBe('unreachable');
    expect(gw.message).toContain('502');
    f.injectAnswer({ path: '/api/v1/node', status: 200, body: '<!DOCTYPE html><html><title>Sign in</title></html>', contentType: 'text/html' });
    const login = await failure(c.listNodes());
    expect(login.code).toBe('server-error');
    expect(login.message).toContain('HTML page');
  });

  it('passes a server-side validation failure (grpc 500) through as rejected input with its message', async () => {
    const f = await fake('0.27');
    const c = client(f);
    await c.serverInfo();
    f.injectAnswer({
      path: '/api/v1/preauthkey',
      status: 500,
      body: JSON.stringify({ code: 2, message: 'invalid tag owner', details: [] }),
      contentType: 'application/json',
    });
    const e = await failure(c.createPreAuthKey({ user: 'alice', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 60_000), tags: [] }));
    expect(e.code).toBe('rejected');
    expect(e.message).toContain('invalid tag owner');
  });

  it('refuses to create a key whose expiration is in the past (it would be born expired)', async () => {
    const f = await fake('0.29');
    const e = await failure(client(f).createPreAuthKey({ user: 'alice', reusable: false, ephemeral: false, expiration: new Date(Date.now() - 1000), tags: [] }));
    expect(e.code).toBe('rejected');
    expect(f.requestsTo('POST', '/api/v1/preauthkey')).toHaveLength(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
