import type { Logger } from '../../log/logger.js';
import { maskSecrets } from '../../log/logger.js';
import { HeadscaleError } from './types.js';
import { isObject } from './wire.js';

/**
 * HTTP to Headscale's REST API and the mapping of its answers to HeadscaleError, for every release:
 * ≤ 0.29 grpc-gateway (`{"code","message","details"}`, most validation failures as HTTP 500, auth failures as
 * plain-text `Unauthorized` — with 500 on ≤ 0.26), 0.30 Huma (RFC 7807 `application/problem+json` with
 * `title`, `status`, `detail`, `errors[].message`, and 400 / 404 / 409 where older releases said 500).
 */

export interface CallOptions {
  query?: Record<string, string | undefined>;
  body?: unknown;
  auth?: boolean;
  /** What the call was for, in operator words: "listing nodes". */
  doing: string;
}

export interface RawResponse {
  status: number;
  contentType: string;
  text: string;
}

export const KEY_HINT =
  'Create a new key inside the Headscale container with `headscale apikeys create --expiration 90d` and set HEADSCALE_API_KEY (or HEADSCALE_API_KEY_FILE).';

export class HeadscaleTransport {
  readonly base: string;
  readonly origin: string;

  constructor(
    url: string,
    private readonly apiKey: string,
    private readonly timeoutMs: number,
    private readonly logger?: Logger,
  ) {
    const u = new URL(url);
    // Credentials in the URL would end up in messages; the origin never carries them.
    this.origin = u.origin;
    this.base = `${u.origin}${u.pathname.replace(/\/+$/, '')}`;
  }

  async json(method: string, path: string, call: CallOptions): Promise<unknown> {
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

  async raw(method: string, path: string, call: CallOptions): Promise<RawResponse> {
    let url = `${this.base}${path}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(call.query ?? {})) if (v !== undefined) params.set(k, v);
    const qs = params.toString();
    if (qs) url += `?${qs}`;
    const headers: Record<string, string> = { accept: 'application/json' };
    if (call.auth !== false) headers.authorization = `Bearer ${this.apiKey}`;
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
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'manual',
      });
      const text = await res.text();
      this.logger?.debug({ method, path, status: res.status, ms: Math.round(performance.now() - started) }, 'headscale api call');
      return { status: res.status, contentType: res.headers.get('content-type') ?? '', text };
    } catch (err) {
      throw this.transportError(err, call.doing);
    }
  }

  /** Auth failures and gateway errors end a probe at once: nothing else can be learned. */
  throwIfAuthFailure(r: RawResponse, doing: string): void {
    if (isAuthFailure(r)) throw this.error(r, doing);
    if ([502, 503, 504].includes(r.status)) throw this.error(r, doing);
  }

  private transportError(err: unknown, doing: string): HeadscaleError {
    const e = err as { name?: string; cause?: { code?: string; name?: string } };
    const seconds = Math.round(this.timeoutMs / 100) / 10;
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

  error(r: RawResponse, doing: string): HeadscaleError {
    if (isAuthFailure(r)) {
      return new HeadscaleError('unauthorized', `Headscale rejected the API key (HTTP ${r.status} "Unauthorized") while ${doing}. ${KEY_HINT}`, r.status);
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
    const problem = problemOf(r, body);
    const said = clean(grpc?.message ?? problem ?? '');
    if (grpc?.code === 16) {
      return new HeadscaleError('unauthorized', `Headscale rejected the API key while ${doing}. ${KEY_HINT}`, r.status);
    }
    if (grpc?.code === 5 || (r.status === 404 && (grpc || problem !== undefined)) || (grpc?.code === 2 && /not found|no longer exists/i.test(said))) {
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
    if (r.status === 409 || grpc?.code === 6) {
      // 0.30: the name, key or ownership is already taken.
      return new HeadscaleError('conflict', `Headscale refused ${doing}: it conflicts with what exists (${said || 'HTTP 409'}).`, r.status);
    }
    if (grpc || problem !== undefined || r.status === 400 || r.status === 422) {
      // ≤ 0.29 turns most validation failures (unknown user, bad name, duplicate…) into HTTP 500 with a message.
      return new HeadscaleError('rejected', `Headscale refused ${doing}: ${said || `HTTP ${r.status}`}.`, r.status);
    }
    return new HeadscaleError('server-error', `Headscale answered HTTP ${r.status} while ${doing} (${describeBody(r)}). Check the headscale container's logs.`, r.status);
  }
}

/**
 * An RFC 7807 problem (0.30's Huma errors): `detail` says what was being done and `errors[].message` why, e.g.
 * `{"title":"Not Found","status":404,"detail":"listing nodes","errors":[{"message":"user not found"}]}`.
 */
function problemOf(r: RawResponse, body: unknown): string | undefined {
  if (!isObject(body) || (typeof body.title !== 'string' && !/problem\+json/i.test(r.contentType))) return undefined;
  const detail = typeof body.detail === 'string' ? body.detail : '';
  const reasons = Array.isArray(body.errors)
    ? body.errors.map((e) => (isObject(e) && typeof e.message === 'string' ? e.message : typeof e === 'string' ? e : '')).filter((m) => m !== '')
    : [];
  const parts = [detail, ...reasons].filter((p) => p !== '');
  if (parts.length === 0 && typeof body.title === 'string') parts.push(body.title);
  return parts.join(': ');
}

export function isAuthFailure(r: RawResponse): boolean {
  // Every release answers 401 only for a missing or rejected key (0.30 as a problem document); ≤ 0.26 also
  // answers 500 + `Unauthorized` when key validation itself fails (e.g. unknown prefix).
  return r.status === 401 || (r.status === 500 && r.text.trim() === 'Unauthorized');
}

export function parseJson(text: string): unknown {
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

export function clean(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return maskSecrets(oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine);
}
