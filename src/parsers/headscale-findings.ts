import type { ApiKeyRejectedFinding, Finding, MapStreamErrorFinding, NodeSessionFinding, TlsErrorFinding, UnsupportedClientFinding } from './finding.js';
import type { Match, Rule } from './headscale-messages.js';
import { evidence } from './parser.js';
import type { Get } from './zerolog.js';

/** Turns a recognised Headscale message and its fields into a finding (or nothing, when a field it needs is absent). */

/** `v1.74` → `1.74`; empty → undefined. Versions are compared without the `v`. */
function version(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (t === '') return undefined;
  return t.charCodeAt(0) === 118 && /^v\d/.test(t) ? t.slice(1) : t;
}

const INTEGER = /^\d{1,9}$/;

function int(v: string | undefined): number | undefined {
  return v !== undefined && INTEGER.test(v) ? Number(v) : undefined;
}

const UNSUPPORTED_IN_ERROR = /unsupported client version:?\s*(v?\d[\w.+-]*)?\s*(?:\((\d{1,9})\))?/;

type BaseFields = { at: number; origin: string; line: string };

/** Versions from `unsupported client version: v1.74 (106)` / `v1.74.0` / `106` (0.25 logs only the capver). */
function unsupportedFromError(err: string, base: BaseFields): UnsupportedClientFinding {
  const f: UnsupportedClientFinding = { kind: 'unsupported-client', ...base };
  const m = UNSUPPORTED_IN_ERROR.exec(err);
  if (m !== null) {
    const token = m[1];
    if (token !== undefined) {
      if (INTEGER.test(token)) f.clientCapVer = Number(token);
      else {
        const v = version(token);
        if (v !== undefined) f.clientVersion = v;
      }
    }
    if (m[2] !== undefined) f.clientCapVer = Number(m[2]);
  }
  return f;
}

const NOISE_CAUSE_PREFIXES = ['upgrading noise connection: ', 'noise upgrade failed: '];

/** `172.18.0.5:41234` → `172.18.0.5`, `[fd7a::1]:443` → `fd7a::1`; anything else as given. */
export function hostOf(address: string): string {
  const a = address.trim();
  if (a.startsWith('[')) {
    const close = a.indexOf(']');
    return close > 0 ? a.slice(1, close) : a;
  }
  const colon = a.lastIndexOf(':');
  return colon > 0 && a.indexOf(':') === colon && /^\d+$/.test(a.slice(colon + 1)) ? a.slice(0, colon) : a;
}

/** Certificate-acquisition failures that leave the server without a certificate (as opposed to scanners' noise). */
const ACME_FATAL = /unable to authorize|authorization error|rateLimited|unable to satisfy|no challenge/;

function present(v: string | undefined): v is string {
  return v !== undefined && v !== '';
}

function session(rule: Rule, match: Match, get: Get, base: BaseFields): Finding | undefined {
  // The hot path when a tailnet flaps: plain literal, no spreads.
  const nodeId = get('node.id');
  if (!present(nodeId)) return undefined;
  const poll = rule === 'poll-conn' || rule === 'poll-disc';
  const f: NodeSessionFinding = {
    kind: rule === 'state-conn' || rule === 'poll-conn' || rule === 'batcher-conn' ? 'node-connected' : 'node-disconnected',
    at: base.at,
    origin: base.origin,
    line: base.line,
    nodeId,
    via: poll ? 'poll' : rule === 'batcher-conn' || rule === 'batcher-disc' ? 'batcher' : 'state',
  };
  // 0.23–0.26 name the hostname field `node`; 0.27+ `node.name`; batcher lines carry only the id.
  const nodeName = get('node.name') ?? get('node');
  if (present(nodeName)) f.nodeName = nodeName;
  if (poll) {
    const s = match.session ?? get('chan');
    if (present(s)) f.session = s;
  }
  return f;
}

function mapStream(rule: Rule, match: Match, get: Get, base: BaseFields): MapStreamErrorFinding | undefined {
  // 0.22 logs the hostname as `machine`, 0.23 `node` (+ `node.id` from alpha6), 0.27+ `node.id` and `node.name`.
  const host = get('node.name') ?? get('node') ?? get('machine');
  const id = get('node.id') ?? host;
  if (!present(id)) return rule === 'map-write-node' ? undefined : { kind: 'map-stream-error', ...base, message: match.known.text, ...errorOf(get) };
  const f: MapStreamErrorFinding = { kind: 'map-stream-error', ...base, nodeId: id, message: match.known.text, ...errorOf(get) };
  if (present(host)) f.nodeName = host;
  return f;
}

function errorOf(get: Get): { error?: string } {
  const e = get('error');
  return present(e) ? { error: e } : {};
}

function apiKey(rule: Rule, get: Get, base: BaseFields): ApiKeyRejectedFinding | undefined {
  const addr = get('client_address');
  if (!present(addr)) return undefined;
  const reason = rule === 'api-key-invalid' ? 'invalid' : rule === 'api-key-failed' ? 'validation-failed' : 'missing-bearer';
  return { kind: 'api-key-rejected', ...base, clientAddress: hostOf(addr), reason };
}

/** `http: TLS handshake error from 1.2.3.4:5678: remote error: tls: bad certificate` (message text only). */
function tlsHandshake(message: string, base: BaseFields): TlsErrorFinding | undefined {
  const rest = message.slice('http: TLS handshake error from '.length);
  const sep = rest.indexOf(': ');
  if (sep <= 0) return undefined;
  const cause = rest.slice(sep + 2).trim();
  const acme = cause.includes('acme/autocert') || cause.includes('acme:');
  return { kind: 'tls-error', ...base, side: 'server', peer: hostOf(rest.slice(0, sep)), cause, ...(acme ? { acme } : {}), fatal: acme && ACME_FATAL.test(cause) };
}

function acmeRequest(get: Get, base: BaseFields): TlsErrorFinding {
  const url = get('url') ?? '';
  let peer = 'ACME server';
  try {
    if (url !== '') peer = new URL(url).host;
  } catch {
    /* not a URL: keep the generic name */
  }
  const status = get('status_code');
  const cause = get('error') ?? (present(status) ? `HTTP ${status}${present(get('body')) ? ` ${get('body')!.slice(0, 200)}` : ''}` : 'request failed');
  return { kind: 'tls-error', ...base, side: 'server', peer, cause, acme: true, fatal: ACME_FATAL.test(cause) };
}

export function build(rule: Rule, match: Match, get: Get, message: string, line: string, at: number, origin: string): Finding | undefined {
  const base = { at, origin, line: evidence(line) };
  switch (rule) {
    case 'state-conn':
    case 'state-disc':
    case 'poll-conn':
    case 'poll-disc':
    case 'batcher-conn':
    case 'batcher-disc':
      return session(rule, match, get, base);
    case 'legacy-init':
      // 0.23 alpha1–4 have no "ready" line: the initial map is the connect. In 0.22 it follows `Client is ready…`.
      if (present(get('machine'))) return undefined;
    // falls through
    case 'legacy-conn':
    case 'legacy-disc': {
      // 0.22 and early 0.23 builds log no node id: the hostname (`machine`, later `node`) stands in for both.
      const host = get('machine') ?? get('node');
      if (!present(host)) return undefined;
      return { kind: rule === 'legacy-disc' ? 'node-disconnected' : 'node-connected', ...base, nodeId: host, nodeName: host, via: 'legacy' };
    }
    case 'map-write':
    case 'map-write-node':
      return mapStream(rule, match, get, base);
    case 'api-key-invalid':
    case 'api-key-failed':
    case 'api-key-bearer':
      return apiKey(rule, get, base);
    case 'acme':
      return acmeRequest(get, base);
    case 'tls-handshake':
      return tlsHandshake(message, base);
    case 'unsupported':
      return unsupportedClient(get, base);
    case 'http-500':
    case 'noise-failed':
      return noiseFailure(rule, get, base);
    case 'no-upgrade-ts2021':
      return { kind: 'proxy-no-upgrade', ...base, endpoint: 'ts2021' };
    case 'no-upgrade-derp':
      return { kind: 'proxy-no-upgrade', ...base, endpoint: 'derp' };
    case 'start': {
      const v = version(get('version'));
      if (v === undefined) return undefined;
      const commit = get('commit');
      return present(commit) ? { kind: 'server-version', ...base, version: v, commit } : { kind: 'server-version', ...base, version: v };
    }
    case 'min-client': {
      const v = version(get('minimum_version'));
      return v === undefined ? undefined : { kind: 'server-minimum-client', ...base, minimumVersion: v };
    }
    case 'tls':
      return { kind: 'tls-url-mismatch', ...base, message: match.known.text };
  }
}

/** `unsupported client version` lines: the minimum and the client's capability version or release, as each release logs them. */
function unsupportedClient(get: Get, base: BaseFields): UnsupportedClientFinding {
  const f: UnsupportedClientFinding = { kind: 'unsupported-client', ...base };
  // 0.27+: minimum_cap_ver/client_cap_ver + minimum_version/client_version strings.
  // 0.23–0.24: min_version/client_version are capability-version integers.
  const minCap = int(get('minimum_cap_ver'));
  const clientCap = int(get('client_cap_ver'));
  const minV = get('minimum_version') ?? get('min_version');
  const clientV = get('client_version');
  if (minCap !== undefined) f.minimumCapVer = minCap;
  else if (int(minV) !== undefined) f.minimumCapVer = int(minV);
  if (clientCap !== undefined) f.clientCapVer = clientCap;
  else if (int(clientV) !== undefined) f.clientCapVer = int(clientV);
  if (minV !== undefined && int(minV) === undefined) {
    const v = version(minV);
    if (v !== undefined) f.minimumVersion = v;
  }
  if (clientV !== undefined && int(clientV) === undefined) {
    const v = version(clientV);
    if (v !== undefined) f.clientVersion = v;
  }
  return f;
}

/** A failed Noise upgrade (≤ 0.24 says so; later an internal error names it), or an unsupported client behind a 500. */
function noiseFailure(rule: 'http-500' | 'noise-failed', get: Get, base: BaseFields): Finding | undefined {
  const err = get('error');
  if (err !== undefined && err.includes('unsupported client version')) return unsupportedFromError(err, base);
  if (rule === 'noise-failed') {
    // ≤ 0.24: the message says what failed and `error` is the bare cause.
    return { kind: 'noise-upgrade-failed', ...base, cause: present(err) ? err : 'unknown' };
  }
  if (err === undefined) return undefined;
  for (const p of NOISE_CAUSE_PREFIXES) {
    if (err.startsWith(p)) return { kind: 'noise-upgrade-failed', ...base, cause: err.slice(p.length) };
  }
  return undefined; // some other internal error
}
