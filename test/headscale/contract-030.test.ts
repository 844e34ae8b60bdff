import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { HeadscaleError } from '../../src/sources/headscale/types.js';
import { startFakeHeadscale, YEAR_ONE, type FakeHeadscale } from '../fakes/headscale/index.js';
import { OPENAPI_030, PROBLEM_CONTENT_TYPE } from '../fakes/headscale/openapi-030.js';
import { findOperation, loadSwagger, matchPath, swaggerDir, validate, validateParam } from '../fakes/headscale/swagger-check.js';
import { allText, startRig, type Rig } from '../interaction/harness.js';

/**
 * Headscale 0.30 (unreleased, main) and the newest release line: the fake's 0.30 answers are checked against
 * the facts of 0.30's OpenAPI 3.1 document (openapi-030.ts) — problem+json errors included — and the client
 * is shown to read them; 0.29.8 is checked against the 0.29 Swagger file; an unknown newer release is used
 * best effort and named.
 */
const KEY = 'contract-030-key-0123456789';
const fakes: FakeHeadscale[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});
async function fake(opts: Partial<Parameters<typeof startFakeHeadscale>[0]> = {}): Promise<FakeHeadscale> {
  const f = await startFakeHeadscale({
    release: '0.30',
    apiKey: KEY,
    users: ['alice', 'bob'],
    nodes: [
      { name: 'nas-01', user: 'alice', online: true, expiry: null, tags: ['tag:nas'], lastSeen: null },
      { name: 'laptop', user: 'bob', online: false, expiry: YEAR_ONE },
    ],
    ...opts,
  });
  fakes.push(f);
  return f;
}
const client = (f: FakeHeadscale, key = KEY) => new HeadscaleClient({ url: f.url, apiKey: key, timeoutMs: 2000 });
async function failure(p: Promise<unknown>): Promise<HeadscaleError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HeadscaleError) return err;
    throw err;
  }
  throw new Error('expected a HeadscaleError');
}

describe('fake Headscale 0.30 matches the facts of its OpenAPI 3.1 document', () => {
  it('answers every route with the declared shape, and every error as an RFC 7807 problem', async () => {
    const f = await fake();
    const c = client(f);
    const ignore = (p: Promise<unknown>) => p.catch(() => undefined);
    const expiration = new Date(Date.now() + 3_600_000);
    await c.serverInfo();
    await c.health();
    await c.listNodes();
    await c.listNodes('bob');
    await ignore(c.listNodes('ghost'));
    await c.getNode('1');
    await ignore(c.getNode('99'));
    await c.expireNode('2');
    await ignore(c.expireNode('99'));
    await c.listUsers();
    const key = await c.createPreAuthKey({ user: 'alice', reusable: true, ephemeral: false, expiration, tags: ['tag:x'] });
    await c.createPreAuthKey({ reusable: false, ephemeral: true, expiration, tags: ['tag:ci'] });
    await ignore(c.createPreAuthKey({ user: 'ghost', reusable: false, ephemeral: false, expiration, tags: [] }));
    await c.listPreAuthKeys();
    await c.expirePreAuthKey(key);
    await ignore(c.expirePreAuthKey({ id: '999', key: '', user: null }));
    await ignore(client(f, 'wrong').listUsers());
    const raw = (method: string, p: string, body?: unknown) =>
      fetch(`${f.url}${p}`, {
        method,
        headers: { authorization: `Bearer ${KEY}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    await raw('POST', '/api/v1/user', { name: 'carol' });
    await raw('POST', '/api/v1/user', { name: 'carol' });
    await raw('POST', '/api/v1/preauthkey', { reusable: true, expiration: expiration.toISOString() });
    await raw('POST', '/api/v1/preauthkey', { user: '999', reusable: true, expiration: expiration.toISOString() });
    await raw('POST', '/api/v1/node/1/expire', { disableExpiry: true });
    await raw('POST', '/api/v1/node/1/expire', { disableExpiry: true, expiry: expiration.toISOString() });
    await raw('GET', '/api/v1/node/abc');
    await raw('DELETE', `/api/v1/preauthkey?id=${key.id}`);
    await raw('DELETE', '/api/v1/preauthkey?id=999');
    await raw('DELETE', `/api/v1/user/${f.state.users.find((u) => u.name === 'carol')!.id}`);
    await c.deleteNode('2');

    const problems: string[] = [];
    const statuses: string[] = [];
    for (const r of f.requests) {
      const where = `${r.method} ${r.path} → ${r.status}`;
      if (!r.path.startsWith('/api/')) continue;
      if (r.path === '/api/v1/openapi.yaml') {
        if (!/^openapi: 3\.1/.test(r.responseBody)) problems.push(`${where}: not an OpenAPI 3.1 document`);
        continue;
      }
      const body = JSON.parse(r.responseBody) as unknown;
      if (r.status >= 400) {
        if (r.contentType !== PROBLEM_CONTENT_TYPE) problems.push(`${where}: content type ${r.contentType}`);
        problems.push(...validate(OPENAPI_030, { $ref: '#/definitions/ErrorModel' }, body, `${where} problem`, { requireAll: true, timestampsNullable: false }));
        if ((body as { status?: number }).status !== r.status) problems.push(`${where}: problem status differs from HTTP status`);
        statuses.push(`${r.method} ${r.route ?? r.path} ${(body as { detail?: string }).detail} → ${r.status}`);
        continue;
      }
      const template = matchPath(OPENAPI_030, r.method, r.path);
      const op = template ? findOperation(OPENAPI_030, r.method, template) : undefined;
      if (!op) {
        problems.push(`${where}: not an operation of 0.30`);
        continue;
      }
      for (const [name, value] of Object.entries(r.query)) {
        const p = op.parameters?.find((x) => x.in === 'query' && x.name === name);
        if (!p) problems.push(`${where}: query parameter ${name} not in 0.30`);
        else problems.push(...validateParam(p, value, `${where} ?${name}`));
      }
      const reqSchema = op.parameters?.find((p) => p.in === 'body')?.schema;
      if (r.body !== undefined && reqSchema) problems.push(...validate(OPENAPI_030, reqSchema, r.body, `${where} request`, { requireAll: false, timestampsNullable: false }));
      problems.push(...validate(OPENAPI_030, op.responses['200']!.schema!, body, `${where} body`, { requireAll: true, timestampsNullable: false }));
    }
    expect(problems).toEqual([]);
    // Where ≤ 0.29 said 500, 0.30 says what kind of failure it was.
    expect(statuses).toEqual(
      expect.arrayContaining([
        'GET /api/v1/node listing nodes → 404',
        'GET /api/v1/node/{nodeId} node not found → 404',
        'GET /api/v1/node/{nodeId} type mismatch, parameter: node_id, error: strconv.ParseUint: parsing "abc": invalid syntax → 400',
        'POST /api/v1/node/{nodeId}/expire expiring node → 404',
        'POST /api/v1/node/{nodeId}/expire cannot set both disable_expiry and expiry → 400',
        'POST /api/v1/preauthkey creating pre-auth key → 404',
        'POST /api/v1/preauthkey creating pre-auth key → 400',
        'POST /api/v1/preauthkey/expire expiring pre-auth key → 404',
        'DELETE /api/v1/preauthkey deleting pre-auth key → 404',
        'POST /api/v1/user user already exists → 409',
        'GET /api/v1/user Unauthorized → 401',
      ]),
    );
    // The expire body form: disableExpiry cleared the expiry.
    expect(f.state.nodes.find((n) => n.id === '1')!.expiry).toBeNull();
  });

  it('serves its API description at /api/v1/openapi.yaml and no longer at /swagger', async () => {
    const f = await fake();
    expect((await fetch(`${f.url}/api/v1/openapi.yaml`)).status).toBe(200);
    expect((await fetch(`${f.url}/swagger`)).status).toBe(404);
    const old = await fake({ release: '0.29' });
    expect((await fetch(`${old.url}/swagger`)).status).toBe(200);
    expect((await client(f).serverInfo()).apiDocs).toBe('/api/v1/docs');
    expect((await client(old).serverInfo()).apiDocs).toBe('/swagger');
  });
});

describe('HeadscaleClient reads 0.30', () => {
  it('maps problem+json errors to what they mean, keeping what the server said', async () => {
    const f = await fake();
    const c = client(f);
    const ghost = await failure(c.listNodes('ghost'));
    expect(ghost.code).toBe('not-found');
    expect(ghost.status).toBe(404);
    expect(ghost.message).toContain('listing nodes: user not found');
    const unauthorized = await failure(client(f, 'hskey-api-wrong').listNodes());
    expect(unauthorized.code).toBe('unauthorized');
    expect(unauthorized.message).toContain('HEADSCALE_API_KEY');
    const untagged = await failure(c.createPreAuthKey({ user: 'nobody-at-all', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 60_000), tags: [] }));
    expect(untagged.code).toBe('not-found');
    const missingKey = await failure(c.expirePreAuthKey({ id: '12345', key: '', user: null }));
    expect(missingKey.code).toBe('not-found');
    expect(missingKey.status).toBe(404);
  });

  it('reports 409 as a conflict and 400 as rejected input', async () => {
    const f = await fake();
    const c = client(f);
    await c.serverInfo();
    f.injectAnswer({ path: '/api/v1/preauthkey', status: 409, contentType: PROBLEM_CONTENT_TYPE, body: JSON.stringify({ title: 'Conflict', status: 409, detail: 'creating pre-auth key', errors: [{ message: 'node key already in use' }] }) });
    const conflict = await failure(c.createPreAuthKey({ user: 'alice', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 60_000), tags: [] }));
    expect(conflict.code).toBe('conflict');
    expect(conflict.message).toContain('node key already in use');
    f.injectAnswer({ path: '/api/v1/preauthkey', status: 400, contentType: PROBLEM_CONTENT_TYPE, body: JSON.stringify({ title: 'Bad Request', status: 400, detail: 'invalid tag', errors: [{ message: 'tag "x" is invalid' }] }) });
    const rejected = await failure(c.createPreAuthKey({ user: 'alice', reusable: false, ephemeral: false, expiration: new Date(Date.now() + 60_000), tags: ['tag:x'] }));
    expect(rejected.code).toBe('rejected');
    expect(rejected.message).toContain('invalid tag: tag "x" is invalid');
  });

  it('sends node expiry changes as 0.30 wants them: no query parameters', async () => {
    const f = await fake();
    await client(f).expireNode('1');
    const sent = f.requestsTo('POST', '/api/v1/node/1/expire');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.query).toEqual({});
  });
});

describe('which release, and when headwatch does not know it', () => {
  it('detects a development build of main that reports `dev` or a pseudo-version of the last tag as 0.30', async () => {
    for (const version of ['dev', 'v0.29.3-0.20260721112835-f20f1f127842']) {
      const f = await fake({ version });
      const info = await client(f).serverInfo();
      expect(info.release, version).toBe('0.30');
      expect(info.version).toContain('development build with the 0.30 API');
      expect(info.note).toMatch(/not released yet/);
    }
  });

  it('uses an unknown newer release best-effort with the 0.30 API, and says so', async () => {
    const f = await fake({ version: 'v0.31.0' });
    const c = client(f);
    const info = await c.serverInfo();
    expect(info).toMatchObject({ release: '0.31', note: '0.31 is newer than headwatch knows; using the 0.30 API' });
    expect((await c.listNodes()).map((n) => n.name)).toEqual(['nas-01', 'laptop']);
  });

  it('knows 0.29.8 as the newest 0.29 and names a later patch', async () => {
    expect((await client(await fake({ release: '0.29', version: 'v0.29.8' })).serverInfo()).note).toBeUndefined();
    expect((await client(await fake({ release: '0.29', version: 'v0.29.9' })).serverInfo()).note).toBe(
      '0.29.9 is newer than the newest 0.29 headwatch knows (0.29.8); using the 0.29 API',
    );
  });

  it('0.29.8 answers as the 0.29 Swagger file describes (patch releases kept the API)', async () => {
    const doc = loadSwagger(swaggerDir(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')), 'v0.29.2');
    if (!doc) return expect.fail('v0.29.2.swagger.json missing from ../shared/reference/headscale-openapi');
    const f = await fake({ release: '0.29', version: 'v0.29.8' });
    const nodes = await fetch(`${f.url}/api/v1/node`, { headers: { authorization: `Bearer ${KEY}` } }).then((r) => r.json());
    expect(validate(doc, findOperation(doc, 'get', '/api/v1/node')!.responses['200']!.schema!, nodes, 'GET /api/v1/node', { requireAll: true })).toEqual([]);
    expect((await client(f).serverInfo()).version).toBe('0.29.8');
  });
});

describe('/headscale status names a release headwatch does not know', () => {
  let rig: Rig | undefined;
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
  });

  it('shows "0.31 is newer than headwatch knows; using the 0.30 API"', async () => {
    rig = await startRig({ release: '0.30', hsVersion: 'v0.31.0' });
    const m = (await rig.command('slack', 'USTRANGER', 'status')).last('replace')!;
    expect(allText(m)).toContain('0.31 is newer than headwatch knows; using the 0.30 API');
  });
});
