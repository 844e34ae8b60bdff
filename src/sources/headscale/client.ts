import type { Logger } from '../../log/logger.js';
import { maskSecrets } from '../../log/logger.js';
import {
  HeadscaleError,
  type CreatePreAuthKeyInput,
  type HeadscaleApi,
  type HsNode,
  type HsPolicy,
  type HsPreAuthKey,
  type HsUser,
  type ServerInfo,
} from './types.js';
import { isObject, listOf, toNode, toPreAuthKey, toUser, type Wire } from './wire.js';

export interface HeadscaleClientOptions {
  /** HEADSCALE_URL: Headscale's listen address (the same port Tailscale clients use). */
  url: string;
  /** HEADSCALE_API_KEY. Sent only in the Authorization header; never logged or put in an error. */
  apiKey: string;
  /** HEADSCALE_TIMEOUT_SECONDS × 1000: every call, including reading the body. */
  timeoutMs: number;
  logger?: Logger;
  /**
   * Skip detection and use this release's API shapes (e.g. `0.25`): for servers whose /version is hidden
   * behind a proxy and that cannot be probed. Normally left unset.
   */
  release?: string;
}

interface CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  auth?: boolean;
  /** What the call was for, in operator words: "listing nodes". */
  doing: string;
}

interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

/** Oldest and newest API shapes this client speaks; newer servers are spoken to like the newest. */
const OLDEST = 22;
const NEWEST = 29;

const KEY_HINT =
  'Create a new key inside the Headscale container with `headscale apikeys create --expiration 90d` and set HEADSCALE_API_KEY (or HEADSCALE_API_KEY_FILE).';

/**
 * REST client for Headscale 0.22–0.29 behind the one `HeadscaleApi` interface. It detects the release once
 * (`GET /version` on 0.27+, otherwise by probing routes that appeared or vanished between releases) and
 * branches on it: `machine` vs `node` paths (0.22), users by name vs id, the pre-auth key `user` as a name
 * (≤ 0.25), an id (0.26–0.27) or optional (0.28+), and how a pre-auth key is expired.
 */
export class HeadscaleClient implements HeadscaleApi {
  private readonly base: string;
  private readonly origin: string;
  private detection: Promise<{ info: ServerInfo; shape: number }> | undefined;

  constructor(private readonly opts: HeadscaleClientOptions) {
    const u = new URL(opts.url);
    // Credentials in the URL would end up in messages; the origin never carries them.
    this.origin = u.origin;
    this.base = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
    if (opts.release !== undefined) {
      const shape = minorOf(opts.release);
      if (shape === undefined) throw new HeadscaleError('unsupported', `Headscale release "${opts.release}" is not a 0.x version such as 0.25.`);
      this.detection = Promise.resolve({
        info: { version: opts.release, release: `0.${shape}`, detectedBy: 'config' },
        shape: clampShape(shape),
      });
    }
  }

  serverInfo(): Promise<ServerInfo> {
    return this.detect().then((d) => d.info);
  }

  refreshServerInfo(): Promise<ServerInfo> {
    if (this.opts.release === undefined) this.detection = undefined;
    return this.serverInfo();
  }

  async health(): Promise<{ ok: boolean; databaseConnectivity?: boolean }> {
    const r = await this.raw('GET', '/health', { auth: false, doing: 'checking health' });
    const body = parseJson(r.text);
    const ok = r.status === 200 && isObject(body) && body.status === 'pass';
    if (r.status !== 200 && r.status !== 500) throw this.error(r, 'checking health');
    // Liveness needs no key; the database check below does, so a rejected key must not hide a live server.
    const shape = await this.detect().then(
      (d) => d.shape,
      () => undefined,
    );
    if (shape === undefined || shape < 27) return { ok };
    try {
      const db = await this.json('GET', '/api/v1/health', { doing: 'checking database health' });
      return { ok, databaseConnectivity: isObject(db) && db.databaseConnectivity === true };
    } catch (err) {
      if (err instanceof HeadscaleError && (err.code === 'rejected' || err.code === 'server-error')) {
        return { ok: false, databaseConnectivity: false };
      }
      if (err instanceof HeadscaleError && err.code === 'unauthorized') return { ok };
      throw err;
    }
  }

  async listNodes(user?: string): Promise<HsNode[]> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    const body = await this.json('GET', `/api/v1/${res.path}`, {
      query: { user },
      doing: user ? `listing nodes of user "${user}"` : 'listing nodes',
    });
    return listOf(body, res.plural).map(toNode);
  }

  async getNode(id: string): Promise<HsNode> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    const body = await this.json('GET', `/api/v1/${res.path}/${nodeIdSegment(id)}`, { doing: `reading node ${id}` });
    return toNode(isObject(body) ? body[res.singular] : undefined);
  }

  async deleteNode(id: string): Promise<void> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    await this.json('DELETE', `/api/v1/${res.path}/${nodeIdSegment(id)}`, { doing: `deleting node ${id}` });
  }

  async expireNode(id: string): Promise<HsNode> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    // No expiry parameter: "expire now", the same in every release (0.27.1 added an optional ?expiry=).
    const body = await this.json('POST', `/api/v1/${res.path}/${nodeIdSegment(id)}/expire`, { doing: `expiring node ${id}` });
    return toNode(isObject(body) ? body[res.singular] : undefined);
  }

  async getPolicy(): Promise<HsPolicy | undefined> {
    const { shape } = await this.detect();
    if (shape < 23) return undefined;
    const body = await this.json('GET', '/api/v1/policy', { doing: 'reading the ACL policy' });
    const o = isObject(body) ? body : {};
    return { policy: typeof o.policy === 'string' ? o.policy : '', updatedAt: typeof o.updatedAt === 'string' ? o.updatedAt : null };
  }

  async listUsers(): Promise<HsUser[]> {
    const body = await this.json('GET', '/api/v1/user', { doing: 'listing users' });
    return listOf(body, 'users')
      .map(toUser)
      .filter((u): u is HsUser => u !== null);
  }

  async createPreAuthKey(input: CreatePreAuthKeyInput): Promise<HsPreAuthKey> {
    const { shape, info } = await this.detect();
    const doing = input.user ? `creating a pre-auth key for user "${input.user}"` : 'creating a tag-only pre-auth key';
    if (!(input.expiration instanceof Date) || Number.isNaN(input.expiration.getTime())) {
      throw new HeadscaleError('rejected', `Cannot create the pre-auth key: the expiration is not a valid date.`);
    }
    if (input.expiration.getTime() <= Date.now()) {
      throw new HeadscaleError('rejected', `Cannot create the pre-auth key: the expiration ${input.expiration.toISOString()} is in the past.`);
    }
    const badTag = input.tags.find((t) => !t.startsWith('tag:'));
    if (badTag !== undefined) {
      throw new HeadscaleError('rejected', `Cannot create the pre-auth key: tag "${badTag}" must start with "tag:" (for example tag:server).`);
    }
    let user: string | undefined;
    if (input.user === undefined || input.user === '') {
      if (shape < 28) {
        throw new HeadscaleError(
          'unsupported',
          `Headscale ${info.version} needs a user for every pre-auth key; keys owned only by tags need Headscale 0.28 or newer. Name a user.`,
        );
      }
      if (input.tags.length === 0) {
        throw new HeadscaleError('rejected', 'A pre-auth key needs a user or at least one tag (Headscale 0.28+ rejects keys that are neither owned nor tagged).');
      }
    } else {
      user = shape <= 25 ? input.user : (await this.resolveUser(input.user)).id;
    }
    const body: Wire = {
      reusable: input.reusable,
      ephemeral: input.ephemeral,
      // Always explicit: Headscale stores an omitted expiration as year 1, an already expired key.
      expiration: input.expiration.toISOString(),
      aclTags: input.tags,
    };
    if (user !== undefined) body.user = user;
    const res = await this.json('POST', '/api/v1/preauthkey', { body, doing });
    const users = shape <= 25 && input.user ? await this.usersByName().catch(() => undefined) : undefined;
    return toPreAuthKey(isObject(res) ? res.preAuthKey : undefined, users);
  }

  async listPreAuthKeys(user?: string): Promise<HsPreAuthKey[]> {
    const { shape } = await this.detect();
    if (shape >= 28) {
      const body = await this.json('GET', '/api/v1/preauthkey', { doing: 'listing pre-auth keys' });
      const keys = listOf(body, 'preAuthKeys').map((k) => toPreAuthKey(k));
      return user ? keys.filter((k) => k.user?.name === user || k.user?.id === user) : keys;
    }
    // ≤ 0.27 lists per user only.
    const users = user ? [await this.resolveUser(user)] : await this.listUsers();
    const byName = new Map(users.map((u) => [u.name, u]));
    const out: HsPreAuthKey[] = [];
    for (const u of users) {
      const body = await this.json('GET', '/api/v1/preauthkey', {
        query: { user: shape <= 25 ? u.name : u.id },
        doing: `listing pre-auth keys of user "${u.name}"`,
      });
      for (const k of listOf(body, 'preAuthKeys')) {
        const key = toPreAuthKey(k, byName);
        out.push(key.user ? key : { ...key, user: u });
      }
    }
    return out;
  }

  async expirePreAuthKey(key: Pick<HsPreAuthKey, 'id' | 'key' | 'user'>): Promise<void> {
    const { shape, info } = await this.detect();
    const doing = `expiring pre-auth key ${key.id}`;
    if (shape >= 28) {
      await this.json('POST', '/api/v1/preauthkey/expire', { body: { id: key.id }, doing });
      return;
    }
    // ≤ 0.27 identifies the key by its owner and full secret.
    if (!key.user || (!key.user.name && !key.user.id)) {
      throw new HeadscaleError('rejected', `Headscale ${info.version} expires a pre-auth key by its user and full key; key ${key.id} has no user.`);
    }
    if (!key.key || key.key.includes('*')) {
      throw new HeadscaleError('rejected', `Headscale ${info.version} expires a pre-auth key by its full key, and key ${key.id} is only known masked.`);
    }
    let user: string;
    if (shape <= 25) user = key.user.name;
    else user = key.user.id !== '' ? key.user.id : (await this.resolveUser(key.user.name)).id;
    await this.json('POST', '/api/v1/preauthkey/expire', { body: { user, key: key.key }, doing });
  }

  /**
   * A user as operators name it. An exact name wins; a number that is not a name is taken as a user id.
   * 0.24+ filters by `?name=` server side; older releases ignore the parameter, so the list is filtered here too.
   */
  async resolveUser(nameOrId: string): Promise<HsUser> {
    const { shape } = await this.detect();
    const query = shape >= 24 ? { name: nameOrId } : undefined;
    const doing = `looking up user "${nameOrId}"`;
    let users = listOf(await this.json('GET', '/api/v1/user', query ? { query, doing } : { doing }), 'users').map(toUser);
    let found = users.find((u) => u?.name === nameOrId);
    if (!found && /^\d+$/.test(nameOrId)) {
      if (query) users = listOf(await this.json('GET', '/api/v1/user', { query: { id: nameOrId }, doing }), 'users').map(toUser);
      found = users.find((u) => u?.id === nameOrId);
    }
    if (!found) {
      throw new HeadscaleError('not-found', `Headscale has no user named "${nameOrId}". List users with \`headscale users list\` and check the spelling.`, 404);
    }
    return found;
  }

  private async usersByName(): Promise<Map<string, HsUser>> {
    return new Map((await this.listUsers()).map((u) => [u.name, u]));
  }

  // --- detection ---------------------------------------------------------------------------------------

  private detect(): Promise<{ info: ServerInfo; shape: number }> {
    if (!this.detection) {
      const p = this.runDetection();
      this.detection = p;
      // A failed detection (server down, key rejected) is retried on the next call, not cached.
      p.catch(() => {
        if (this.detection === p) this.detection = undefined;
      });
    }
    return this.detection;
  }

  private async runDetection(): Promise<{ info: ServerInfo; shape: number }> {
    const r = await this.raw('GET', '/version', { auth: false, doing: 'reading the Headscale version' });
    if (r.status === 200) {
      const body = parseJson(r.text);
      const version = isObject(body) && typeof body.version === 'string' ? body.version : undefined;
      const minor = minorOf(version);
      if (version !== undefined && minor !== undefined) {
        this.opts.logger?.debug({ version }, 'headscale version from /version');
        return { info: { version: version.replace(/^v/, ''), release: `0.${minor}`, detectedBy: 'version-endpoint' }, shape: clampShape(minor) };
      }
      // `dev` builds and odd answers fall through to probing.
    } else if (r.status >= 500 && r.status !== 501) {
      throw this.error(r, 'reading the Headscale version');
    }
    const probed = await this.probe();
    this.opts.logger?.debug({ version: probed.info.version }, 'headscale release probed');
    return probed;
  }

  /**
   * No /version (≤ 0.26, or hidden by a proxy): tell releases apart by routes that exist only in some.
   * 0.22 serves /machine; /routes was removed in 0.26; GET /user/{name} was removed in 0.24 (User objects
   * gained displayName then); /api/v1/health appeared in 0.27; listing pre-auth keys without a user in 0.28.
   */
  private async probe(): Promise<{ info: ServerInfo; shape: number }> {
    const found = (shape: number, version: string) => ({
      info: { version, release: `0.${shape}`, detectedBy: 'probe' as const },
      shape,
    });
    const doing = 'detecting the Headscale release';
    const nodes = await this.raw('GET', '/api/v1/node', { doing });
    this.throwIfAuthFailure(nodes, doing);
    if (nodes.status === 404) {
      const machines = await this.raw('GET', '/api/v1/machine', { doing });
      if (machines.status === 200) return found(22, '0.22');
      throw new HeadscaleError(
        'unsupported',
        `${this.origin} does not look like Headscale 0.22–0.29: neither /api/v1/node nor /api/v1/machine exists. Check HEADSCALE_URL (it must be Headscale's listen address, e.g. http://headscale:8080).`,
        404,
      );
    }
    if (nodes.status !== 200) throw this.error(nodes, doing);

    const routes = await this.raw('GET', '/api/v1/routes', { doing });
    this.throwIfAuthFailure(routes, doing);
    if (routes.status === 200) {
      const users = await this.raw('GET', '/api/v1/user', { doing });
      this.throwIfAuthFailure(users, doing);
      const first = listOf(parseJson(users.text), 'users')[0];
      if (isObject(first)) return 'displayName' in first ? found(24, '0.24–0.25') : found(23, '0.23');
      const byName = await this.raw('GET', '/api/v1/user/headwatch-release-probe', { doing });
      this.throwIfAuthFailure(byName, doing);
      // 0.24+ has only DELETE /user/{id} on that pattern (405/501) or nothing (404).
      return [404, 405, 501].includes(byName.status) ? found(24, '0.24–0.25') : found(23, '0.23');
    }
    const health = await this.raw('GET', '/api/v1/health', { doing });
    this.throwIfAuthFailure(health, doing);
    if (health.status !== 200) return found(26, '0.26');
    const keys = await this.raw('GET', '/api/v1/preauthkey', { doing });
    this.throwIfAuthFailure(keys, doing);
    return keys.status === 200 ? found(28, '0.28+') : found(27, '0.27');
  }

  private throwIfAuthFailure(r: RawResponse, doing: string): void {
    if (isAuthFailure(r)) throw this.error(r, doing);
    if ([502, 503, 504].includes(r.status)) throw this.error(r, doing);
  }

  // --- transport ---------------------------------------------------------------------------------------

  private async json(method: string, path: string, call: CallOptions): Promise<unknown> {
    const r = await this.raw(method, path, call);
    if (r.status < 200 || r.status >= 300) throw this.error(r, call.doing);
    const body = parseJson(r.text);
    if (body === undefined) {
      throw new HeadscaleError(
        'server-error',
        `${this.origin} answered ${call.doing} with something that is not JSON (${describeBody(r)}). Check that HEADSCALE_URL points at Headscale itself, not at a login page or another service.`,
        r.status,
      );
    }
    return body;
  }

  private async raw(method: string, path: string, call: CallOptions): Promise<RawResponse> {
    let url = `${this.base}${path}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (call.auth !== false) headers.authorization = `Bearer ${this.opts.apiKey}`;
    let payload: string | undefined;
    if (call.body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(call.body);
    }
    const started = performance.now();
    try {
      const res = await fetch(url, {
        method,
        headers,
        ...(payload !== undefined ? { body: payload } : {}),
        signal: AbortSignal.timeout(this.opts.timeoutMs),
        redirect: 'manual',
      });
      const text = await res.text();
      this.opts.logger?.debug({ method, path, status: res.status, ms: Math.round(performance.now() - started) }, 'headscale api call');
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
    } catch (err) {
      throw this.transportError(err, call.doing);
    }
  }

  private transportError(err: unknown, doing: string): HeadscaleError {
    const e = err as { name?: string; cause?: { code?: string; name?: string } };
    const seconds = Math.round(this.opts.timeoutMs / 100) / 10;
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError' || e?.cause?.name === 'TimeoutError') {
      return new HeadscaleError(
        'timeout',
        `Headscale at ${this.origin} did not answer within ${seconds} s while ${doing}. It may be overloaded or stuck; check the headscale container, or raise HEADSCALE_TIMEOUT_SECONDS.`,
      );
    }
    const code = e?.cause?.code;
    const why =
      code === 'ECONNREFUSED'
        ? 'connection refused'
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN'
          ? 'host name not found'
          : code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
            ? 'connection dropped'
            : code === 'EHOSTUNREACH' || code === 'ENETUNREACH'
              ? 'host unreachable'
              : code
                ? code
                : 'network error';
    return new HeadscaleError(
      'unreachable',
      `Cannot reach Headscale at ${this.origin} (${why}) while ${doing}. Check that the headscale container is running and that HEADSCALE_URL is its listen address as seen from headwatch.`,
    );
  }

  private error(r: RawResponse, doing: string): HeadscaleError {
    if (isAuthFailure(r)) {
      return new HeadscaleError(
        'unauthorized',
        `Headscale rejected the API key (HTTP ${r.status} "Unauthorized") while ${doing}. ${KEY_HINT}`,
        r.status,
      );
    }
    if ([502, 503, 504].includes(r.status)) {
      return new HeadscaleError(
        'unreachable',
        `A proxy in front of Headscale answered HTTP ${r.status} while ${doing}: Headscale itself is probably down or restarting. Check the headscale container.`,
        r.status,
      );
    }
    const body = parseJson(r.text);
    const grpc = isObject(body) && typeof body.message === 'string' ? { code: typeof body.code === 'number' ? body.code : undefined, message: body.message } : undefined;
    // 0.30-dev answers RFC 7807 problem documents.
    const problem = isObject(body) && typeof body.title === 'string' ? { title: body.title, detail: typeof body.detail === 'string' ? body.detail : '' } : undefined;
    const said = clean(grpc?.message ?? (problem ? [problem.title, problem.detail].filter(Boolean).join(': ') : ''));
    if (grpc?.code === 16) {
      return new HeadscaleError('unauthorized', `Headscale rejected the API key while ${doing}. ${KEY_HINT}`, r.status);
    }
    if (grpc?.code === 5 || (r.status === 404 && (grpc || problem)) || (grpc?.code === 2 && /not found|no longer exists/i.test(said))) {
      return new HeadscaleError('not-found', `Headscale: ${said || 'not found'} (while ${doing}).`, r.status);
    }
    if (r.status === 404) {
      return new HeadscaleError(
        'unsupported',
        `Headscale at ${this.origin} has no such endpoint (HTTP 404 while ${doing}). Check HEADSCALE_URL; the release may not offer this operation.`,
        404,
      );
    }
    if (grpc?.code === 12 || r.status === 501 || r.status === 405) {
      return new HeadscaleError('unsupported', `This Headscale release does not support ${doing}${said ? ` (${said})` : ''}.`, r.status);
    }
    if (grpc || problem || r.status === 400 || r.status === 409) {
      // ≤ 0.29 turns most validation failures (unknown user, bad name, duplicate…) into HTTP 500 with a message.
      return new HeadscaleError('rejected', `Headscale refused ${doing}: ${said || `HTTP ${r.status}`}.`, r.status);
    }
    return new HeadscaleError(
      'server-error',
      `Headscale answered HTTP ${r.status} while ${doing} (${describeBody(r)}). Check the headscale container's logs.`,
      r.status,
    );
  }
}

function isAuthFailure(r: RawResponse): boolean {
  // ≤ 0.26 answers 500 + `Unauthorized` when key validation itself fails (e.g. unknown prefix).
  return (r.status === 401 || r.status === 500) && r.text.trim() === 'Unauthorized';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, safe description of a body we did not expect: never an HTML page or a secret. */
function describeBody(r: RawResponse): string {
  const t = r.text.trim();
  if (t === '') return 'empty body';
  if (/html/i.test(r.contentType) || /^<(!doctype|html|\?xml)/i.test(t)) return 'an HTML page, probably from a proxy';
  return `"${clean(t)}"`;
}

function clean(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return maskSecrets(oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine);
}

function nodeResource(shape: number): { path: string; singular: string; plural: string } {
  return shape <= 22 ? { path: 'machine', singular: 'machine', plural: 'machines' } : { path: 'node', singular: 'node', plural: 'nodes' };
}

function nodeIdSegment(id: string): string {
  if (!/^\d+$/.test(id)) throw new HeadscaleError('rejected', `"${clean(id)}" is not a node id: Headscale node ids are numbers (see \`headscale nodes list\`).`);
  return id;
}

function minorOf(version: string | undefined): number | undefined {
  const m = version ? /^v?0\.(\d+)/.exec(version.trim()) : null;
  return m ? Number(m[1]) : undefined;
}

function clampShape(minor: number): number {
  return Math.min(NEWEST, Math.max(OLDEST, minor));
}
