import type { Logger } from '../../log/logger.js';
import { detection, detectRelease, type Detection } from './detect.js';
import { minorOf } from './releases.js';
import { clean, HeadscaleTransport, parseJson } from './transport.js';
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

/**
 * REST client for Headscale 0.22–0.30 behind the one `HeadscaleApi` interface. It detects the release once
 * (detect.ts) and branches on it: `machine` vs `node` paths (0.22), users by name vs id, the pre-auth key
 * `user` as a name (≤ 0.25), an id (0.26–0.27) or optional (0.28+), and how a pre-auth key is expired. Error
 * bodies of every release (grpc-gateway JSON, plain-text `Unauthorized`, 0.30's problem+json) are mapped in
 * transport.ts. A release newer than 0.30 is spoken to like 0.30 and says so in its ServerInfo note.
 */
export class HeadscaleClient implements HeadscaleApi {
  private readonly t: HeadscaleTransport;
  private detection: Promise<Detection> | undefined;

  constructor(private readonly opts: HeadscaleClientOptions) {
    this.t = new HeadscaleTransport(opts.url, opts.apiKey, opts.timeoutMs, opts.logger);
    if (opts.release !== undefined) {
      const minor = minorOf(opts.release);
      if (minor === undefined) throw new HeadscaleError('unsupported', `Headscale release "${opts.release}" is not a 0.x version such as 0.25.`);
      this.detection = Promise.resolve(detection(opts.release, minor, 'config'));
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
    const r = await this.t.raw('GET', '/health', { auth: false, doing: 'checking health' });
    const body = parseJson(r.text);
    const ok = r.status === 200 && isObject(body) && body.status === 'pass';
    if (r.status !== 200 && r.status !== 500) throw this.t.error(r, 'checking health');
    // Liveness needs no key; the database check below does, so a rejected key must not hide a live server.
    const shape = await this.detect().then(
      (d) => d.shape,
      () => undefined,
    );
    if (shape === undefined || shape < 27) return { ok };
    try {
      const db = await this.t.json('GET', '/api/v1/health', { doing: 'checking database health' });
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
    const body = await this.t.json('GET', `/api/v1/${res.path}`, {
      query: { user },
      doing: user ? `listing nodes of user "${user}"` : 'listing nodes',
    });
    return listOf(body, res.plural).map(toNode);
  }

  async getNode(id: string): Promise<HsNode> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    const body = await this.t.json('GET', `/api/v1/${res.path}/${nodeIdSegment(id)}`, { doing: `reading node ${id}` });
    return toNode(isObject(body) ? body[res.singular] : undefined);
  }

  async deleteNode(id: string): Promise<void> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    await this.t.json('DELETE', `/api/v1/${res.path}/${nodeIdSegment(id)}`, { doing: `deleting node ${id}` });
  }

  async expireNode(id: string): Promise<HsNode> {
    const { shape } = await this.detect();
    const res = nodeResource(shape);
    // No expiry parameter: "expire now", the same in every release (0.27.1 added an optional ?expiry=).
    const body = await this.t.json('POST', `/api/v1/${res.path}/${nodeIdSegment(id)}/expire`, { doing: `expiring node ${id}` });
    return toNode(isObject(body) ? body[res.singular] : undefined);
  }

  async getPolicy(): Promise<HsPolicy | undefined> {
    const { shape } = await this.detect();
    if (shape < 23) return undefined;
    const body = await this.t.json('GET', '/api/v1/policy', { doing: 'reading the ACL policy' });
    const o = isObject(body) ? body : {};
    return { policy: typeof o.policy === 'string' ? o.policy : '', updatedAt: typeof o.updatedAt === 'string' ? o.updatedAt : null };
  }

  async listUsers(): Promise<HsUser[]> {
    const body = await this.t.json('GET', '/api/v1/user', { doing: 'listing users' });
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
    const res = await this.t.json('POST', '/api/v1/preauthkey', { body, doing });
    const users = shape <= 25 && input.user ? await this.usersByName().catch(() => undefined) : undefined;
    return toPreAuthKey(isObject(res) ? res.preAuthKey : undefined, users);
  }

  async listPreAuthKeys(user?: string): Promise<HsPreAuthKey[]> {
    const { shape } = await this.detect();
    if (shape >= 28) {
      const body = await this.t.json('GET', '/api/v1/preauthkey', { doing: 'listing pre-auth keys' });
      const keys = listOf(body, 'preAuthKeys').map((k) => toPreAuthKey(k));
      return user ? keys.filter((k) => k.user?.name === user || k.user?.id === user) : keys;
    }
    // ≤ 0.27 lists per user only.
    const users = user ? [await this.resolveUser(user)] : await this.listUsers();
    const byName = new Map(users.map((u) => [u.name, u]));
    const out: HsPreAuthKey[] = [];
    for (const u of users) {
      const body = await this.t.json('GET', '/api/v1/preauthkey', {
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
      await this.t.json('POST', '/api/v1/preauthkey/expire', { body: { id: key.id }, doing });
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
    await this.t.json('POST', '/api/v1/preauthkey/expire', { body: { user, key: key.key }, doing });
  }

  /**
   * A user as operators name it. An exact name wins; a number that is not a name is taken as a user id.
   * 0.24+ filters by `?name=` server side; older releases ignore the parameter, so the list is filtered here too.
   */
  async resolveUser(nameOrId: string): Promise<HsUser> {
    const { shape } = await this.detect();
    const query = shape >= 24 ? { name: nameOrId } : undefined;
    const doing = `looking up user "${nameOrId}"`;
    let users = listOf(await this.t.json('GET', '/api/v1/user', query ? { query, doing } : { doing }), 'users').map(toUser);
    let found = users.find((u) => u?.name === nameOrId);
    if (!found && /^\d+$/.test(nameOrId)) {
      if (query) users = listOf(await this.t.json('GET', '/api/v1/user', { query: { id: nameOrId }, doing }), 'users').map(toUser);
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

  private detect(): Promise<Detection> {
    if (!this.detection) {
      const p = detectRelease(this.t, this.opts.logger);
      this.detection = p;
      // A failed detection (server down, key rejected) is retried on the next call, not cached.
      p.catch(() => {
        if (this.detection === p) this.detection = undefined;
      });
    }
    return this.detection;
  }
}

function nodeResource(shape: number): { path: string; singular: string; plural: string } {
  return shape <= 22 ? { path: 'machine', singular: 'machine', plural: 'machines' } : { path: 'node', singular: 'node', plural: 'nodes' };
}

function nodeIdSegment(id: string): string {
  if (!/^\d+$/.test(id)) throw new HeadscaleError('rejected', `"${clean(id)}" is not a node id: Headscale node ids are numbers (see \`headscale nodes list\`).`);
  return id;
}

