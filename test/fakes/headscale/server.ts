import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROBLEM_CONTENT_TYPE } from './openapi-030.js';
import { openapiYaml, problem, toProblem } from './v030.js';

/**
 * A fake Headscale that impersonates the REST API of releases 0.22–0.30 over real HTTP on 127.0.0.1:
 * paths (machine vs node), field names, id-as-string encoding, year-1 vs null expiry, error bodies and status
 * codes, /version and /api/v1/health only on 0.27+, /health everywhere, and the auth middleware. Response
 * shapes are checked against each release's OpenAPI file by test/headscale/contract.test.ts.
 *
 * Behaviour per release was read from juanfont/headscale at the release tags (see headscale.md §1–§6):
 * unknown node → 500 `{"code":2,"message":"record not found"}` up to 0.26, 404 code 5 `node not found` from
 * 0.27 (expire of an unknown node stays a 500 with the NodeStore message); bad key → plain-text
 * `Unauthorized` with 500 up to 0.26 and 401 from 0.27. 0.30 (unreleased, main): the same handlers, errors as
 * RFC 7807 problems with 400/404/409 (v030.ts), node expire by JSON body, missing pre-auth keys an error,
 * /api/v1/openapi.yaml instead of /swagger; checked against the facts in openapi-030.ts.
 */

export const FAKE_RELEASES = ['0.22', '0.23', '0.24', '0.25', '0.26', '0.27', '0.28', '0.29', '0.30'] as const;
/** Releases with a Swagger 2.0 file in ../shared/reference/headscale-openapi (0.30 has none: see openapi-030.ts). */
export const SWAGGER_RELEASES = ['0.22', '0.23', '0.24', '0.25', '0.26', '0.27', '0.28', '0.29'] as const;
export type FakeRelease = (typeof FAKE_RELEASES)[number];

/** The exact release each fake line impersonates (the tags the OpenAPI files come from). */
export const FAKE_VERSIONS: Record<FakeRelease, string> = {
  '0.22': 'v0.22.3',
  '0.23': 'v0.23.0',
  '0.24': 'v0.24.3',
  '0.25': 'v0.25.1',
  '0.26': 'v0.26.1',
  '0.27': 'v0.27.1',
  '0.28': 'v0.28.0',
  '0.29': 'v0.29.2',
  // Unreleased: a prerelease build of main as goreleaser would name it.
  '0.30': 'v0.30.0-beta.1',
};

export const YEAR_ONE = '0001-01-01T00:00:00Z';

export interface FakeUser {
  id: string;
  name: string;
  createdAt: string;
}

export interface FakeNode {
  id: string;
  name: string;
  givenName: string;
  userId: string;
  online: boolean;
  lastSeen: string | null;
  /** `null`, an RFC 3339 time, or YEAR_ONE (both "never" forms occur in the wild). */
  expiry: string | null;
  createdAt: string;
  ipAddresses: string[];
  tags: string[];
}

export interface FakePreAuthKey {
  id: string;
  key: string;
  userId: string | null;
  reusable: boolean;
  ephemeral: boolean;
  used: boolean;
  expiration: string;
  createdAt: string;
  aclTags: string[];
}

export interface FakeNodeInit {
  id?: string;
  name: string;
  givenName?: string;
  /** Owner by user name; created when missing. */
  user: string;
  online?: boolean;
  lastSeen?: string | null;
  expiry?: string | null;
  createdAt?: string;
  ipAddresses?: string[];
  tags?: string[];
}

export interface FakeState {
  release: FakeRelease;
  apiKey: string;
  users: FakeUser[];
  nodes: FakeNode[];
  preAuthKeys: FakePreAuthKey[];
  /** Every API key is refused (an expired or deleted key). */
  rejectKey: boolean;
  /** Delay before every answer, to exercise client timeouts. */
  delayMs: number;
  /** Database ping result behind /health and /api/v1/health. */
  databaseOk: boolean;
  /** One-shot canned answers for the next matching requests (e.g. a proxy's HTML 502 page). */
  injected: InjectedAnswer[];
  nextId: number;
  /** ACL policy text behind GET /api/v1/policy (0.23+); undefined = none stored yet. */
  policy?: string;
  policyUpdatedAt?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or the raw text when not JSON, or undefined when empty. */
  body: unknown;
  /** The Authorization header as received (tests assert on it; never print it). */
  authorization: string | undefined;
  status: number;
  responseBody: string;
  contentType: string;
  /** The route template that answered, e.g. `/api/v1/node/{nodeId}`, when one matched. */
  route?: string;
}

export interface InjectedAnswer {
  /** Path prefix the answer applies to (default: any path). */
  path?: string;
  /** Only requests with this method (default: any). */
  method?: string;
  status: number;
  body: string;
  contentType?: string;
}

export interface FakeHeadscaleOptions {
  release: FakeRelease;
  apiKey: string;
  users?: string[];
  nodes?: FakeNodeInit[];
  delayMs?: number;
  /** Fixed port (default: any free port). */
  port?: number;
  /** What /version reports instead of FAKE_VERSIONS (`dev`, a Go pseudo-version, `v0.31.0`…). */
  version?: string;
}

export interface FakeRoute {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  template: string;
  /** Served outside the /api auth middleware. */
  public?: boolean;
}

export interface FakeHeadscale {
  readonly url: string;
  readonly port: number;
  readonly state: FakeState;
  readonly requests: RecordedRequest[];
  /** Stops listening for good. */
  close(): Promise<void>;
  /** Stops listening and drops open connections: clients get connection refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  setOnline(id: string, online: boolean): void;
  /** Stores an ACL policy (what `headscale policy set` does in database mode). */
  setPolicy(text: string): void;
  addNode(init: FakeNodeInit): FakeNode;
  removeNode(id: string): void;
  addUser(name: string): FakeUser;
  setDelay(ms: number): void;
  rejectKey(on?: boolean): void;
  /** Answers the next request matching `path` with this canned response instead (once). */
  injectAnswer(answer: InjectedAnswer): void;
  /**
   * Carries out matching requests but never answers them (until the fake stops): the caller sees its request hang
   * after it took effect, as a process killed at that moment would have left it.
   */
  withholdAnswers(method: string, path: string): void;
  /** Requests whose method and path match (path exact or a `prefix*`). */
  requestsTo(method: string, path: string): RecordedRequest[];
  clearRequests(): void;
  /** The routes this release serves (for the contract test). */
  routes(): FakeRoute[];
  /**
   * Upgrades the server in place, as a new image with the same database would: same users, nodes and keys,
   * the new release's paths and shapes from the next request on. `version` overrides what /version reports.
   */
  upgrade(release: FakeRelease, version?: string): void;
}

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly contentType = 'application/json',
  ) {}
}

const grpcError = (status: number, code: number, message: string) => new HttpAnswer(status, { code, message, details: [] });
const text = (status: number, body: string) => new HttpAnswer(status, body, 'text/plain; charset=utf-8');

function minor(r: FakeRelease): number {
  return Number(r.split('.')[1]);
}

export function fakeRoutes(release: FakeRelease): FakeRoute[] {
  const m = minor(release);
  const n = m === 22 ? '/api/v1/machine' : '/api/v1/node';
  const id = m === 22 ? '{machineId}' : '{nodeId}';
  const routes: FakeRoute[] = [
    { method: 'GET', template: '/health', public: true },
    { method: 'GET', template: n },
    { method: 'GET', template: `${n}/${id}` },
    { method: 'DELETE', template: `${n}/${id}` },
    { method: 'POST', template: `${n}/${id}/expire` },
    { method: 'GET', template: '/api/v1/user' },
    { method: 'POST', template: '/api/v1/user' },
    { method: 'GET', template: '/api/v1/preauthkey' },
    { method: 'POST', template: '/api/v1/preauthkey' },
    { method: 'POST', template: '/api/v1/preauthkey/expire' },
  ];
  if (m <= 23) routes.push({ method: 'GET', template: '/api/v1/user/{name}' });
  if (m >= 24) routes.push({ method: 'DELETE', template: '/api/v1/user/{id}' });
  if (m <= 25) routes.push({ method: 'GET', template: '/api/v1/routes' });
  if (m >= 27) {
    routes.push({ method: 'GET', template: '/version', public: true });
    routes.push({ method: 'GET', template: '/api/v1/health' });
  }
  if (m >= 28) routes.push({ method: 'DELETE', template: '/api/v1/preauthkey' });
  if (m >= 23) routes.push({ method: 'GET', template: '/api/v1/policy' });
  if (m >= 30) routes.push({ method: 'GET', template: '/api/v1/openapi.yaml', public: true });
  else routes.push({ method: 'GET', template: '/swagger', public: true });
  return routes;
}

function matchTemplate(template: string, path: string): Record<string, string> | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const seg = t[i]!;
    if (seg.startsWith('{')) {
      if (p[i] === '') return undefined;
      params[seg.slice(1, -1)] = decodeURIComponent(p[i]!);
    } else if (seg !== p[i]) return undefined;
  }
  return params;
}

export async function startFakeHeadscale(opts: FakeHeadscaleOptions): Promise<FakeHeadscale> {
  const state: FakeState = {
    release: opts.release,
    apiKey: opts.apiKey,
    users: [],
    nodes: [],
    preAuthKeys: [],
    rejectKey: false,
    delayMs: opts.delayMs ?? 0,
    databaseOk: true,
    injected: [],
    nextId: 1,
  };
  const requests: RecordedRequest[] = [];
  let m = minor(opts.release);
  let routes = fakeRoutes(opts.release);
  let version = opts.version ?? FAKE_VERSIONS[opts.release];
  const now = () => new Date().toISOString();

  const findUserByName = (name: string) => state.users.find((u) => u.name === name);
  const addUser = (name: string): FakeUser => {
    const existing = findUserByName(name);
    if (existing) return existing;
    const u: FakeUser = { id: String(state.users.length === 0 ? 1 : Math.max(...state.users.map((x) => Number(x.id))) + 1), name, createdAt: now() };
    state.users.push(u);
    return u;
  };
  // Headscale's node ids come from an SQLite autoincrement: a deleted node's id is never given out again.
  let highestNodeId = 0;
  const addNode = (init: FakeNodeInit): FakeNode => {
    const user = addUser(init.user);
    const id = init.id ?? String(Math.max(highestNodeId, ...state.nodes.map((x) => Number(x.id))) + 1);
    highestNodeId = Math.max(highestNodeId, Number(id));
    const node: FakeNode = {
      id,
      name: init.name,
      givenName: init.givenName ?? init.name,
      userId: user.id,
      online: init.online ?? true,
      lastSeen: init.lastSeen === undefined ? now() : init.lastSeen,
      expiry: init.expiry === undefined ? null : init.expiry,
      createdAt: init.createdAt ?? now(),
      ipAddresses: init.ipAddresses ?? [`100.64.0.${id}`, `fd7a:115c:a1e0::${id}`],
      tags: init.tags ?? [],
    };
    state.nodes.push(node);
    return node;
  };
  for (const u of opts.users ?? []) addUser(u);
  for (const n of opts.nodes ?? []) addNode(n);

  // --- wire rendering per release ---
  const userWire = (u: FakeUser): Record<string, unknown> =>
    m <= 23
      ? { id: u.id, name: u.name, createdAt: u.createdAt }
      : { id: u.id, name: u.name, createdAt: u.createdAt, displayName: '', email: '', providerId: '', provider: '', profilePicUrl: '' };
  const userOf = (id: string | null) => (id === null ? undefined : state.users.find((u) => u.id === id));
  const nodeWire = (n: FakeNode): Record<string, unknown> => {
    const u = userOf(n.userId);
    const hex = n.id.padStart(8, '0');
    const w: Record<string, unknown> = {
      id: n.id,
      machineKey: `mkey:${hex}${'a'.repeat(56)}`,
      nodeKey: `nodekey:${hex}${'b'.repeat(56)}`,
      discoKey: `discokey:${hex}${'c'.repeat(56)}`,
      ipAddresses: n.ipAddresses,
      name: n.name,
      user: u ? userWire(u) : null,
      lastSeen: n.lastSeen,
      expiry: n.expiry,
      preAuthKey: null,
      createdAt: n.createdAt,
      registerMethod: 'REGISTER_METHOD_CLI',
      givenName: n.givenName,
      online: n.online,
    };
    if (m === 22) w.lastSuccessfulUpdate = n.lastSeen;
    if (m <= 27) {
      w.forcedTags = n.tags;
      w.invalidTags = [];
      w.validTags = [];
    }
    if (m >= 26) {
      w.approvedRoutes = [];
      w.availableRoutes = [];
      w.subnetRoutes = [];
    }
    if (m >= 28) w.tags = n.tags;
    return w;
  };
  const keyWire = (k: FakePreAuthKey, reveal: boolean): Record<string, unknown> => {
    const u = userOf(k.userId);
    const shown = reveal || m <= 27 ? k.key : `${k.key.split('-').slice(0, 3).join('-')}-***`;
    return {
      user: m <= 25 ? (u?.name ?? '') : u ? userWire(u) : null,
      id: k.id,
      key: shown,
      reusable: k.reusable,
      ephemeral: k.ephemeral,
      used: k.used,
      expiration: k.expiration,
      createdAt: k.createdAt,
      aclTags: k.aclTags,
    };
  };
  const nodeKey = m === 22 ? 'machine' : 'node';

  const notFoundNode = () => (m >= 27 ? grpcError(404, 5, 'node not found') : grpcError(500, 2, 'record not found'));
  const parseUint = (name: string, v: unknown): string | HttpAnswer => {
    const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v : '';
    if (!/^\d+$/.test(s)) return grpcError(400, 3, `type mismatch, parameter: ${name}, error: strconv.ParseUint: parsing ${JSON.stringify(String(v ?? ''))}: invalid syntax`);
    return String(Number(s));
  };
  const userFromRequest = (v: unknown): FakeUser | HttpAnswer | null => {
    // ≤ 0.25: a user name; 0.26+: a uint64 id (string or number on input; 0/absent = none).
    if (m <= 25) {
      const u = typeof v === 'string' ? findUserByName(v) : undefined;
      return u ?? grpcError(500, 2, 'user not found');
    }
    if (v === undefined || v === null || v === '' || v === 0 || v === '0') return null;
    const id = parseUint('user', v);
    if (id instanceof HttpAnswer) return id;
    return state.users.find((u) => u.id === id) ?? grpcError(500, 2, 'user not found');
  };

  function handle(method: string, path: string, query: URLSearchParams, body: unknown, route: string, params: Record<string, string>): HttpAnswer {
    const nodeIdParam = params.machineId ?? params.nodeId;
    switch (`${method} ${route}`) {
      case 'GET /health':
        return state.databaseOk
          ? new HttpAnswer(200, { status: 'pass' }, 'application/health+json; charset=utf-8')
          : new HttpAnswer(500, { status: 'fail' }, 'application/health+json; charset=utf-8');
      case 'GET /swagger':
        return new HttpAnswer(200, '<!DOCTYPE html><html><head><title>Swagger UI</title></head><body></body></html>', 'text/html; charset=utf-8');
      case 'GET /api/v1/openapi.yaml':
        return new HttpAnswer(200, openapiYaml(), 'application/yaml');
      case 'GET /version':
        return new HttpAnswer(200, {
          version,
          commit: 'abc1234',
          buildTime: '2026-07-01T00:00:00Z',
          go: { version: 'go1.26.1', os: 'linux', arch: 'amd64' },
          dirty: false,
        });
      case 'GET /api/v1/policy':
        // Database mode before any policy was stored: Headscale answers "not found" (gRPC code 5).
        return state.policy === undefined
          ? grpcError(m >= 27 ? 404 : 500, m >= 27 ? 5 : 2, 'acl policy not found')
          : new HttpAnswer(200, { policy: state.policy, updatedAt: state.policyUpdatedAt ?? now() });
      case 'GET /api/v1/health':
        return state.databaseOk ? new HttpAnswer(200, { databaseConnectivity: true }) : grpcError(500, 2, 'pinging database: database is locked');
      case 'GET /api/v1/machine':
      case 'GET /api/v1/node': {
        const userName = query.get('user');
        let nodes = state.nodes;
        if (userName) {
          const u = findUserByName(userName);
          if (!u) return grpcError(500, 2, 'user not found');
          nodes = nodes.filter((n) => n.userId === u.id);
        }
        return new HttpAnswer(200, { [`${nodeKey}s`]: nodes.map(nodeWire) });
      }
      case 'GET /api/v1/machine/{machineId}':
      case 'GET /api/v1/node/{nodeId}': {
        const id = parseUint(m === 22 ? 'machine_id' : 'node_id', nodeIdParam);
        if (id instanceof HttpAnswer) return id;
        const n = state.nodes.find((x) => x.id === id);
        return n ? new HttpAnswer(200, { [nodeKey]: nodeWire(n) }) : notFoundNode();
      }
      case 'DELETE /api/v1/machine/{machineId}':
      case 'DELETE /api/v1/node/{nodeId}': {
        const id = parseUint(m === 22 ? 'machine_id' : 'node_id', nodeIdParam);
        if (id instanceof HttpAnswer) return id;
        const i = state.nodes.findIndex((x) => x.id === id);
        if (i < 0) return notFoundNode();
        state.nodes.splice(i, 1);
        return new HttpAnswer(200, {});
      }
      case 'POST /api/v1/machine/{machineId}/expire':
      case 'POST /api/v1/node/{nodeId}/expire': {
        const id = parseUint(m === 22 ? 'machine_id' : 'node_id', nodeIdParam);
        if (id instanceof HttpAnswer) return id;
        const n = state.nodes.find((x) => x.id === id);
        if (!n) return m >= 27 ? grpcError(500, 2, `node no longer exists in NodeStore: ${id}`) : grpcError(500, 2, 'record not found');
        // 0.30 takes an optional JSON body instead of the query parameters.
        const b30 = m >= 30 && isRecord(body) ? body : {};
        const expiry = m >= 30 ? (typeof b30.expiry === 'string' ? b30.expiry : null) : m >= 27 ? query.get('expiry') : null;
        const disable = m >= 30 ? b30.disableExpiry === true : m >= 29 && query.get('disableExpiry') === 'true';
        if (disable && expiry) return grpcError(400, 3, 'cannot set both disable_expiry and expiry');
        n.expiry = disable ? null : (expiry ?? now());
        return new HttpAnswer(200, { [nodeKey]: nodeWire(n) });
      }
      case 'GET /api/v1/user': {
        let users = state.users;
        if (m >= 24) {
          const id = query.get('id');
          const name = query.get('name');
          const email = query.get('email');
          if (id) users = users.filter((u) => u.id === id);
          if (name) users = users.filter((u) => u.name === name);
          if (email) users = [];
        }
        return new HttpAnswer(200, { users: users.map(userWire) });
      }
      case 'GET /api/v1/user/{name}': {
        const u = findUserByName(params.name ?? '');
        return u ? new HttpAnswer(200, { user: userWire(u) }) : grpcError(500, 2, 'record not found');
      }
      case 'POST /api/v1/user': {
        const name = isRecord(body) && typeof body.name === 'string' ? body.name : '';
        if (!name) return grpcError(500, 2, 'invalid username: empty');
        if (findUserByName(name)) return grpcError(500, 2, 'user already exists');
        return new HttpAnswer(200, { user: userWire(addUser(name)) });
      }
      case 'DELETE /api/v1/user/{id}': {
        const id = parseUint('id', params.id);
        if (id instanceof HttpAnswer) return id;
        const i = state.users.findIndex((u) => u.id === id);
        if (i < 0) return grpcError(500, 2, 'user not found');
        state.users.splice(i, 1);
        return new HttpAnswer(200, {});
      }
      case 'GET /api/v1/routes':
        return new HttpAnswer(200, { routes: [] });
      case 'POST /api/v1/preauthkey': {
        const b = isRecord(body) ? body : {};
        const aclTags = Array.isArray(b.aclTags) ? b.aclTags.filter((t): t is string => typeof t === 'string') : [];
        if (m >= 28) {
          const bad = aclTags.find((t) => !t.startsWith('tag:'));
          if (bad) return grpcError(400, 3, `tag ${JSON.stringify(bad)} is invalid: tags must start with "tag:"`);
        }
        const user = userFromRequest(b.user);
        if (user instanceof HttpAnswer) return user;
        if (user === null && m <= 27) return grpcError(500, 2, 'user not found');
        if (user === null && aclTags.length === 0) return grpcError(500, 2, 'auth-key must be either tagged or owned by user');
        // No expiration in the request → Go's zero time, i.e. an already expired key (headscale.md §4.1).
        const expiration = typeof b.expiration === 'string' ? b.expiration : YEAR_ONE;
        const secret = randomBytes(32).toString('hex');
        const prefix = randomBytes(6).toString('hex');
        const k: FakePreAuthKey = {
          id: String(state.nextId++),
          key: m >= 28 ? `hskey-auth-${prefix}-${secret}` : randomBytes(24).toString('hex'),
          userId: user?.id ?? null,
          reusable: b.reusable === true,
          ephemeral: b.ephemeral === true,
          used: false,
          expiration,
          createdAt: now(),
          aclTags,
        };
        state.preAuthKeys.push(k);
        return new HttpAnswer(200, { preAuthKey: keyWire(k, true) });
      }
      case 'GET /api/v1/preauthkey': {
        if (m >= 28) return new HttpAnswer(200, { preAuthKeys: state.preAuthKeys.map((k) => keyWire(k, false)) });
        const user = userFromRequest(query.get('user') ?? undefined);
        if (user instanceof HttpAnswer) return user;
        if (user === null) return grpcError(500, 2, 'user not found');
        return new HttpAnswer(200, { preAuthKeys: state.preAuthKeys.filter((k) => k.userId === user.id).map((k) => keyWire(k, false)) });
      }
      case 'POST /api/v1/preauthkey/expire': {
        const b = isRecord(body) ? body : {};
        let k: FakePreAuthKey | undefined;
        if (m >= 28) {
          const id = parseUint('id', b.id);
          if (id instanceof HttpAnswer) return id;
          k = state.preAuthKeys.find((x) => x.id === id);
          // ≤ 0.29 expires a missing key silently; 0.30 makes it an error.
          if (!k) return m >= 30 ? grpcError(500, 2, 'pre auth key not found') : new HttpAnswer(200, {});
        } else {
          const user = userFromRequest(b.user);
          if (user instanceof HttpAnswer) return user;
          k = state.preAuthKeys.find((x) => x.key === b.key && x.userId === user?.id);
          if (!k) return grpcError(500, 2, 'AuthKey not found');
        }
        k.expiration = now();
        return new HttpAnswer(200, {});
      }
      case 'DELETE /api/v1/preauthkey': {
        const id = parseUint('id', query.get('id') ?? '');
        if (id instanceof HttpAnswer) return id;
        if (m >= 30 && !state.preAuthKeys.some((k) => k.id === id)) return grpcError(500, 2, 'pre auth key not found');
        state.preAuthKeys = state.preAuthKeys.filter((k) => k.id !== id);
        return new HttpAnswer(200, {});
      }
      default:
        return grpcError(501, 12, 'Method Not Allowed');
    }
  }

  function authFailure(req: IncomingMessage): HttpAnswer | undefined {
    const header = req.headers.authorization;
    const refuse = (status: number) => (m >= 30 ? new HttpAnswer(401, problem(401, 'Unauthorized').body, PROBLEM_CONTENT_TYPE) : text(status, 'Unauthorized'));
    if (!header || !header.startsWith('Bearer ')) return refuse(401);
    const key = header.slice('Bearer '.length);
    if (state.rejectKey || key !== state.apiKey) return refuse(m <= 26 ? 500 : 401);
    return undefined;
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    let body: unknown;
    if (rawBody !== '') {
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = rawBody;
      }
    }
    if (state.delayMs > 0) await new Promise((r) => setTimeout(r, state.delayMs));

    let answer: HttpAnswer;
    let matched: string | undefined;
    const isApi = url.pathname.startsWith('/api/');
    const isPublic = routes.some((r) => r.public && r.template === url.pathname);
    const auth = isApi && !isPublic ? authFailure(req) : undefined;
    const injectedAt = state.injected.findIndex((a) => (a.path === undefined || url.pathname.startsWith(a.path)) && (a.method === undefined || a.method === method));
    if (injectedAt >= 0) {
      const a = state.injected.splice(injectedAt, 1)[0]!;
      answer = new HttpAnswer(a.status, a.body, a.contentType ?? 'text/plain; charset=utf-8');
    } else if (auth) {
      answer = auth;
    } else {
      const candidates = routes.map((r) => ({ r, params: matchTemplate(r.template, url.pathname) })).filter((c) => c.params !== undefined);
      const hit = candidates.find((c) => c.r.method === method);
      if (hit) {
        matched = hit.r.template;
        if (body !== undefined && !isRecord(body)) answer = grpcError(400, 3, 'invalid character in request body');
        else answer = handle(method, url.pathname, url.searchParams, body, hit.r.template, hit.params!);
      } else if (candidates.length > 0) {
        answer = grpcError(501, 12, 'Method Not Allowed');
      } else if (isApi && m < 30) {
        answer = grpcError(404, 5, 'Not Found');
      } else {
        answer = text(404, '404 page not found');
      }
    }
    if (m >= 30 && answer.status >= 400 && isRecord(answer.body) && typeof answer.body.message === 'string' && 'code' in answer.body) {
      const p = toProblem(method, matched, answer.status, answer.body.message);
      answer = new HttpAnswer(p.status, p.body, PROBLEM_CONTENT_TYPE);
    }
    const payload = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization: req.headers.authorization,
      status: answer.status,
      responseBody: payload,
      contentType: answer.contentType,
      ...(matched ? { route: matched } : {}),
    });
    if (!res.writable || res.destroyed) return;
    if (withheld.some((w) => w.method === method && w.path === url.pathname)) return;
    res.writeHead(answer.status, { 'content-type': answer.contentType });
    res.end(payload);
  }

  const withheld: { method: string; path: string }[] = [];
  let server: Server = makeServer();
  function makeServer(): Server {
    return createServer((req, res) => {
      onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    });
  }
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  const port = await listen(opts.port ?? 0);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    state,
    requests,
    close: stop,
    down: stop,
    async up() {
      if (server.listening) return;
      server = makeServer();
      await listen(port);
    },
    setOnline(id, online) {
      const n = state.nodes.find((x) => x.id === id);
      if (!n) throw new Error(`fake headscale: no node ${id}`);
      n.online = online;
      n.lastSeen = now();
    },
    setPolicy(text) {
      state.policy = text;
      state.policyUpdatedAt = now();
    },
    addNode,
    removeNode(id) {
      state.nodes = state.nodes.filter((n) => n.id !== id);
    },
    addUser,
    setDelay(ms) {
      state.delayMs = ms;
    },
    rejectKey(on = true) {
      state.rejectKey = on;
    },
    injectAnswer(answer) {
      state.injected.push(answer);
    },
    withholdAnswers(method, path) {
      withheld.push({ method, path });
    },
    requestsTo(method, path) {
      return requests.filter(
        (r) => r.method === method && (path.endsWith('*') ? r.path.startsWith(path.slice(0, -1)) : r.path === path),
      );
    },
    clearRequests() {
      requests.length = 0;
    },
    routes: () => routes,
    upgrade(release, v) {
      state.release = release;
      m = minor(release);
      routes = fakeRoutes(release);
      version = v ?? FAKE_VERSIONS[release];
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
