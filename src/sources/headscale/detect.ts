import type { Logger } from '../../log/logger.js';
import { clampShape, isPseudoVersion, minorOf, NEWEST_SHAPE, releaseNote } from './releases.js';
import type { HeadscaleTransport } from './transport.js';
import { HeadscaleError, type ServerInfo } from './types.js';
import { isObject, listOf } from './wire.js';

export interface Detection {
  info: ServerInfo;
  /** API shape to speak (a Headscale minor between OLDEST_SHAPE and NEWEST_SHAPE). */
  shape: number;
}

function docsFor(shape: number): string {
  return shape >= 30 ? '/api/v1/docs' : '/swagger';
}

export function detection(version: string, minor: number, detectedBy: ServerInfo['detectedBy'], release = `0.${minor}`): Detection {
  const shape = clampShape(minor);
  const note = releaseNote(minor, version);
  const info: ServerInfo = { version, release, detectedBy, apiDocs: docsFor(shape), ...(note ? { note } : {}) };
  return { info, shape };
}

/**
 * The release behind HEADSCALE_URL: `GET /version` (0.27+) names it. A development build names none (`dev`) or
 * a Go pseudo-version of the last tag (a build of main says `v0.29.3-0.2026…` while serving the 0.30 API), so
 * those are confirmed by what the server serves: 0.30 publishes its OpenAPI document at /api/v1/openapi.yaml
 * where older releases had /swagger. Without /version (≤ 0.26, or hidden by a proxy), routes tell releases apart.
 */
export async function detectRelease(t: HeadscaleTransport, logger?: Logger): Promise<Detection> {
  const r = await t.raw('GET', '/version', { auth: false, doing: 'reading the Headscale version' });
  if (r.status === 200) {
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch {
      body = undefined;
    }
    const raw = isObject(body) && typeof body.version === 'string' ? body.version : undefined;
    const minor = minorOf(raw);
    if (raw !== undefined && minor !== undefined && !isPseudoVersion(raw)) {
      logger?.debug({ version: raw }, 'headscale version from /version');
      return detection(raw.replace(/^v/, ''), minor, 'version-endpoint');
    }
    // `dev` builds and pseudo-versions: ask the server what it serves.
    if (raw !== undefined && (await servesOpenApi31(t))) {
      const shown = raw.replace(/^v/, '');
      const d = detection(shown, Math.max(NEWEST_SHAPE, minor ?? 0), 'probe', `0.${NEWEST_SHAPE}`);
      return { ...d, info: { ...d.info, version: `${shown} (development build with the 0.${NEWEST_SHAPE} API)` } };
    }
    if (raw !== undefined && minor !== undefined) return detection(raw.replace(/^v/, ''), minor, 'version-endpoint');
  } else if (r.status >= 500 && r.status !== 501) {
    throw t.error(r, 'reading the Headscale version');
  }
  const probed = await probe(t);
  logger?.debug({ version: probed.info.version }, 'headscale release probed');
  return probed;
}

async function servesOpenApi31(t: HeadscaleTransport): Promise<boolean> {
  // 0.30 serves it without a key; sent with one, so an /api path never sees a request without it.
  const r = await t.raw('GET', '/api/v1/openapi.yaml', { doing: 'detecting the Headscale release' });
  return r.status === 200 && /^openapi:\s*["']?3\.1/m.test(r.text);
}

/**
 * No usable /version: tell releases apart by routes that exist only in some. 0.22 serves /machine; /routes was
 * removed in 0.26; GET /user/{name} was removed in 0.24 (User objects gained displayName then);
 * /api/v1/health appeared in 0.27; listing pre-auth keys without a user in 0.28; the OpenAPI 3.1 document in 0.30.
 */
async function probe(t: HeadscaleTransport): Promise<Detection> {
  const found = (minor: number, version: string) => detection(version, minor, 'probe');
  const doing = 'detecting the Headscale release';
  const nodes = await t.raw('GET', '/api/v1/node', { doing });
  t.throwIfAuthFailure(nodes, doing);
  if (nodes.status === 404) {
    const machines = await t.raw('GET', '/api/v1/machine', { doing });
    if (machines.status === 200) return found(22, '0.22');
    throw new HeadscaleError(
      'unsupported',
      `${t.origin} does not look like Headscale 0.22–0.30: neither /api/v1/node nor /api/v1/machine exists. Check HEADSCALE_URL (it must be Headscale's listen address, e.g. http://headscale:8080).`,
      404,
    );
  }
  if (nodes.status !== 200) throw t.error(nodes, doing);

  const routes = await t.raw('GET', '/api/v1/routes', { doing });
  t.throwIfAuthFailure(routes, doing);
  if (routes.status === 200) {
    const users = await t.raw('GET', '/api/v1/user', { doing });
    t.throwIfAuthFailure(users, doing);
    let first: unknown;
    try {
      first = listOf(JSON.parse(users.text), 'users')[0];
    } catch {
      first = undefined;
    }
    if (isObject(first)) return 'displayName' in first ? found(24, '0.24–0.25') : found(23, '0.23');
    const byName = await t.raw('GET', '/api/v1/user/headwatch-release-probe', { doing });
    t.throwIfAuthFailure(byName, doing);
    // 0.24+ has only DELETE /user/{id} on that pattern (405/501) or nothing (404).
    return [404, 405, 501].includes(byName.status) ? found(24, '0.24–0.25') : found(23, '0.23');
  }
  const health = await t.raw('GET', '/api/v1/health', { doing });
  t.throwIfAuthFailure(health, doing);
  if (health.status !== 200) return found(26, '0.26');
  const keys = await t.raw('GET', '/api/v1/preauthkey', { doing });
  t.throwIfAuthFailure(keys, doing);
  if (keys.status !== 200) return found(27, '0.27');
  return (await servesOpenApi31(t)) ? found(NEWEST_SHAPE, `0.${NEWEST_SHAPE}+`) : found(28, '0.28–0.29');
}
