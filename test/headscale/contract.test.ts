import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { HeadscaleClient } from '../../src/sources/headscale/client.js';
import { SWAGGER_RELEASES, FAKE_VERSIONS, YEAR_ONE, startFakeHeadscale, type FakeHeadscale, type FakeRelease } from '../fakes/headscale/index.js';
import { findOperation, loadSwagger, swaggerDir, validate, validateParam, type SwaggerDoc } from '../fakes/headscale/swagger-check.js';

/**
 * The fake is only worth something if it answers like the real thing: every route it serves, every request
 * the client sends and every body the fake answers are checked against the release's own OpenAPI file.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dir = swaggerDir(repoRoot);
const available = existsSync(dir);
if (!available) console.warn(`[skip] Headscale OpenAPI files not found at ${dir}: contract tests skipped (CI provides them)`);

const KEY = 'contract-test-key-0123456789';
const fakes: FakeHeadscale[] = [];
afterAll(async () => {
  await Promise.all(fakes.map((f) => f.close()));
});

/** Exercises every route the fake serves, success and error paths, through the client and by hand. */
async function exercise(release: FakeRelease): Promise<FakeHeadscale> {
  const m = Number(release.split('.')[1]);
  const f = await startFakeHeadscale({
    release,
    apiKey: KEY,
    users: ['alice', 'bob'],
    nodes: [
      { name: 'nas-01', user: 'alice', online: true, expiry: null, tags: ['tag:nas'], lastSeen: null },
      { name: 'laptop', user: 'bob', online: false, expiry: YEAR_ONE },
      { name: 'phone', user: 'bob', online: true, expiry: '2099-01-01T00:00:00.123456789Z' },
    ],
  });
  fakes.push(f);
  const c = new HeadscaleClient({ url: f.url, apiKey: KEY, timeoutMs: 2000 });
  const ignore = (p: Promise<unknown>) => p.catch(() => undefined);
  await c.serverInfo();
  await c.health();
  await c.listNodes();
  await c.listNodes('bob');
  await ignore(c.listNodes('ghost'));
  await c.getNode('1');
  await ignore(c.getNode('99'));
  await c.expireNode('3');
  await ignore(c.expireNode('99'));
  await c.listUsers();
  const expiration = new Date(Date.now() + 3_600_000);
  const key = await c.createPreAuthKey({ user: 'alice', reusable: true, ephemeral: false, expiration, tags: m >= 28 ? ['tag:x'] : [] });
  if (m >= 28) await c.createPreAuthKey({ reusable: false, ephemeral: true, expiration, tags: ['tag:ci'] });
  await c.listPreAuthKeys();
  await c.expirePreAuthKey(key);
  await c.deleteNode('2');
  await ignore(c.deleteNode('99'));
  if (m >= 23) {
    await ignore(c.getPolicy()); // none stored yet: a gRPC "not found"
    f.setPolicy('{"acls":[]}');
    await c.getPolicy();
  }
  await ignore(new HeadscaleClient({ url: f.url, apiKey: 'wrong', timeoutMs: 2000 }).listUsers());

  // Routes the client does not use but the fake serves (for the slash-command tests).
  const raw = (method: string, p: string, body?: unknown) =>
    fetch(`${f.url}${p}`, {
      method,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    }).then((r) => r.text());
  await raw('POST', '/api/v1/user', { name: 'carol' });
  await raw('POST', '/api/v1/user', { name: 'carol' }); // duplicate → 500 grpc error
  if (m <= 23) await raw('GET', '/api/v1/user/alice');
  if (m >= 24) await raw('DELETE', `/api/v1/user/${f.state.users.find((u) => u.name === 'carol')!.id}`);
  if (m <= 25) await raw('GET', '/api/v1/routes');
  if (m >= 28) await raw('DELETE', `/api/v1/preauthkey?id=${key.id}`);
  await raw('GET', '/api/v1/nonexistent');
  await raw('PUT', m === 22 ? '/api/v1/machine/1' : '/api/v1/node/1');
  return f;
}

describe.skipIf(!available).each(SWAGGER_RELEASES)('fake Headscale %s matches its OpenAPI file', (release) => {
  const tag = FAKE_VERSIONS[release];
  let doc: SwaggerDoc;
  let f: FakeHeadscale;

  it(`serves only routes that exist in ${tag}`, async () => {
    doc = loadSwagger(dir, tag)!;
    expect(doc, `${tag}.swagger.json missing in ${dir}`).toBeDefined();
    const missing: string[] = [];
    for (const r of (await startOnce()).routes()) {
      if (r.public) continue; // /health and /version are outside grpc-gateway; checked below
      if (!findOperation(doc, r.method, r.template)) missing.push(`${r.method} ${r.template}`);
    }
    expect(missing).toEqual([]);
  });

  it('answers every route, and the client sends and receives only what the file allows', async () => {
    f = await startOnce();
    const problems: string[] = [];
    const served = new Set<string>();
    for (const r of f.requests) {
      const where = `${r.method} ${r.path}${Object.keys(r.query).length ? `?${new URLSearchParams(r.query)}` : ''} → ${r.status}`;
      if (!r.path.startsWith('/api/')) continue;
      if (r.responseBody === 'Unauthorized') {
        // The auth middleware answers before grpc-gateway: plain text, 401 (500 on ≤ 0.26 for unknown keys).
        if (![401, 500].includes(r.status) || !r.contentType.startsWith('text/plain')) problems.push(`${where}: bad auth failure answer`);
        continue;
      }
      const body = JSON.parse(r.responseBody) as unknown;
      if (!r.route) {
        // Routing errors from grpc-gateway are rpcStatus too.
        problems.push(...validate(doc, { $ref: '#/definitions/rpcStatus' }, body, `${where} body`, { requireAll: true }));
        continue;
      }
      served.add(`${r.method} ${r.route}`);
      const op = findOperation(doc, r.method, r.route);
      if (!op) {
        problems.push(`${where}: ${r.route} not in ${tag}`);
        continue;
      }
      for (const [name, value] of Object.entries(r.query)) {
        const p = op.parameters?.find((x) => x.in === 'query' && x.name === name);
        if (!p) problems.push(`${where}: query parameter ${name} not in ${tag}`);
        else problems.push(...validateParam(p, value, `${where} ?${name}`));
      }
      const bodyParam = op.parameters?.find((x) => x.in === 'body');
      if (r.body !== undefined) {
        if (!bodyParam?.schema) problems.push(`${where}: request body sent to a route without one`);
        else problems.push(...validate(doc, bodyParam.schema, r.body, `${where} request`, { requireAll: false }));
      }
      const schema = (r.status === 200 ? op.responses['200'] : op.responses.default)?.schema;
      if (!schema) problems.push(`${where}: no response schema for status ${r.status}`);
      else problems.push(...validate(doc, schema, body, `${where} response`, { requireAll: true }));
    }
    expect(problems).toEqual([]);
    const unexercised = f
      .routes()
      .filter((r) => !r.public && !served.has(`${r.method} ${r.template}`))
      .map((r) => `${r.method} ${r.template}`);
    expect(unexercised).toEqual([]);
  });

  it('serves /health everywhere and /version from 0.27 with the documented shapes (not in the OpenAPI file)', async () => {
    f = await startOnce();
    const health = f.requestsTo('GET', '/health');
    expect(health.length).toBeGreaterThan(0);
    expect(JSON.parse(health[0]!.responseBody)).toEqual({ status: 'pass' });
    expect(health[0]!.contentType).toContain('application/health+json');
    const version = f.requestsTo('GET', '/version');
    expect(version).toHaveLength(1);
    if (Number(release.split('.')[1]) >= 27) {
      const v = JSON.parse(version[0]!.responseBody) as Record<string, unknown>;
      expect(Object.keys(v).sort()).toEqual(['buildTime', 'commit', 'dirty', 'go', 'version']);
      expect(v.version).toBe(tag);
    } else {
      expect(version[0]!.status).toBe(404);
      expect(version[0]!.responseBody).toBe('404 page not found');
    }
  });

  let started: Promise<FakeHeadscale> | undefined;
  function startOnce(): Promise<FakeHeadscale> {
    started ??= exercise(release);
    return started;
  }
});

describe.skipIf(!available)('the OpenAPI checker', () => {
  it('tells releases apart: a 0.28 node is not a 0.27 node, a 0.26 key user is not a 0.25 one', async () => {
    const f28 = await startFakeHeadscale({ release: '0.28', apiKey: KEY, nodes: [{ name: 'a', user: 'alice' }] });
    const f26 = await startFakeHeadscale({ release: '0.26', apiKey: KEY, users: ['alice'] });
    fakes.push(f28, f26);
    const nodes = await new HeadscaleClient({ url: f28.url, apiKey: KEY, timeoutMs: 2000 }).listNodes();
    expect(nodes).toHaveLength(1);
    const body = JSON.parse(f28.requestsTo('GET', '/api/v1/node')[0]!.responseBody) as unknown;
    const v27 = loadSwagger(dir, 'v0.27.1')!;
    const errors = validate(v27, { $ref: '#/definitions/v1ListNodesResponse' }, body, 'nodes', { requireAll: true });
    expect(errors).toContain('nodes.nodes[0].tags: unknown property');
    expect(errors).toContain('nodes.nodes[0].forcedTags: missing property');
    await new HeadscaleClient({ url: f26.url, apiKey: KEY, timeoutMs: 2000 }).createPreAuthKey({
      user: 'alice',
      reusable: false,
      ephemeral: false,
      expiration: new Date(Date.now() + 60_000),
      tags: [],
    });
    const created = JSON.parse(f26.requestsTo('POST', '/api/v1/preauthkey')[0]!.responseBody) as unknown;
    const v25 = loadSwagger(dir, 'v0.25.1')!;
    expect(validate(v25, { $ref: '#/definitions/v1CreatePreAuthKeyResponse' }, created, 'key', { requireAll: true })).toContain(
      'key.preAuthKey.user: expected string, got object',
    );
    expect(validate(v25, { $ref: '#/definitions/v1User' }, { id: 1, name: 'x' }, 'u', { requireAll: false })).toEqual([
      'u.id: expected string (uint64), got number',
    ]);
  });
});
