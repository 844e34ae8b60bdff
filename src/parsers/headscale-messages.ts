/**
 * The Headscale log messages headwatch recognises, per release (headscale.md §11; format strings read from
 * juanfont/headscale at the tags named), and the matcher that finds one at a position in a line.
 *
 * Almost every line a busy server writes is irrelevant (access log, debug chatter), so candidates are keyed by
 * the message's first character, first-word length and the second word's first character: one Map lookup on a
 * number (no substring, no string hashing) rejects nearly every irrelevant line.
 */

export type Rule =
  | 'state-conn'
  | 'state-disc'
  | 'poll-conn'
  | 'poll-disc'
  | 'legacy-conn'
  | 'legacy-disc'
  | 'legacy-init'
  | 'batcher-conn'
  | 'batcher-disc'
  | 'unsupported'
  | 'http-500'
  | 'noise-failed'
  | 'no-upgrade-ts2021'
  | 'no-upgrade-derp'
  | 'start'
  | 'min-client'
  | 'tls'
  | 'map-write'
  | 'map-write-node'
  | 'api-key-invalid'
  | 'api-key-failed'
  | 'api-key-bearer'
  | 'acme'
  | 'tls-handshake';

export interface Known {
  text: string;
  rule: Rule;
  /** The logged message only starts with `text` (long sentences, printf suffixes). */
  prefix?: boolean;
  /** With `prefix`: the line still carries fields the finding needs (text lines are tokenised after the text). */
  fields?: boolean;
}

const KNOWN: Known[] = [
  // 0.29 state lines; 0.27/0.28 capitalised.
  { text: 'node connected', rule: 'state-conn' },
  { text: 'node disconnected', rule: 'state-disc' },
  { text: 'Node connected', rule: 'state-conn' },
  { text: 'Node disconnected', rule: 'state-disc' },
  // 0.29 poll lines; 0.23–0.28 append `, mapSession: %p, chan: %p` (0.23 alpha6–11: `, mapSession: %p` only).
  { text: 'node has connected', rule: 'poll-conn' },
  { text: 'node has disconnected', rule: 'poll-disc' },
  // 0.22 (`machine=`); 0.23 alpha1–4 builds log the same close line and `Sending initial map` with `node=`.
  { text: 'Client is ready to access the tailnet', rule: 'legacy-conn' },
  { text: 'Sending initial map', rule: 'legacy-init' },
  { text: 'The client has closed the connection', rule: 'legacy-disc' },
  // Batcher (DBG; the cleanup line INF): 0.27/0.28 wording, then 0.29.
  { text: 'Node connection established in batcher because AddNode completed successfully', rule: 'batcher-conn' },
  { text: 'node connection established in batcher', rule: 'batcher-conn' },
  { text: 'Node disconnected from batcher because all connections removed, keeping entry for rapid reconnection', rule: 'batcher-disc' },
  { text: 'node disconnected from batcher, keeping entry for rapid reconnection', rule: 'batcher-disc' },
  { text: 'Cleaning up node that has been offline for too long', rule: 'batcher-disc' },
  { text: 'cleaning up node that has been offline for too long', rule: 'batcher-disc' },
  // Map stream write/build failures: 0.22 and early 0.23, 0.23 alpha6–0.24 (`, for mapSession: %p`),
  // 0.25–0.26 (`(%s), for mapSession: %p`), 0.27+.
  { text: 'Could not write the map response', rule: 'map-write', prefix: true, fields: true },
  { text: 'could not write the map response', rule: 'map-write', prefix: true, fields: true },
  { text: 'Cannot write data', rule: 'map-write' },
  { text: 'Cannot write keep alive message', rule: 'map-write' },
  { text: 'cannot write update to client', rule: 'map-write' },
  { text: 'cannot write keep alive', rule: 'map-write' },
  { text: 'failed to apply change', rule: 'map-write' },
  { text: 'send: connection failed', rule: 'map-write' },
  { text: 'initial map send timeout', rule: 'map-write' },
  { text: 'node not found for synchronous work', rule: 'map-write' },
  // Also written by non-map handlers (OIDC, API, DERP): only the poll path's carries the node.
  { text: 'Failed to write response', rule: 'map-write-node' },
  { text: 'unsupported client connected', rule: 'unsupported' },
  { text: 'http internal server error', rule: 'http-500' },
  { text: 'noise upgrade failed', rule: 'noise-failed' },
  { text: 'no upgrade header in TS2021 request', rule: 'no-upgrade-ts2021', prefix: true },
  { text: 'No Upgrade header in TS2021 request', rule: 'no-upgrade-ts2021', prefix: true },
  { text: 'No Upgrade header in DERP server request', rule: 'no-upgrade-derp', prefix: true },
  { text: 'starting headscale', rule: 'start' },
  { text: 'Starting Headscale', rule: 'start' },
  { text: 'Clients with a lower minimum version will be rejected', rule: 'min-client' },
  { text: 'listening without TLS but ServerURL does not start with http://', rule: 'tls' },
  { text: 'listening with TLS but ServerURL does not start with https://', rule: 'tls' },
  // API key middleware, 0.22–0.29 (0.30 answers 401 without logging).
  { text: 'invalid token', rule: 'api-key-invalid' },
  { text: 'failed to validate token', rule: 'api-key-failed' },
  { text: 'missing "Bearer " prefix in "Authorization" header', rule: 'api-key-bearer' },
  // Let's Encrypt (autocert) client of a TLS-terminating Headscale.
  { text: 'acme request failed', rule: 'acme' },
  { text: 'acme request returned error', rule: 'acme' },
  // Go's net/http server error log (Headscale sets no ErrorLog, so it is a plain `log` line on stderr).
  { text: 'http: TLS handshake error from ', rule: 'tls-handshake', prefix: true },
];

const BY_HEAD = new Map<number, Known[]>();
const headKey = (first: number, wordLength: number, second: number): number => (first * 64 + wordLength) * 65536 + second;
for (const k of KNOWN) {
  const sp = k.text.indexOf(' ');
  const key = headKey(k.text.charCodeAt(0), sp, k.text.charCodeAt(sp + 1));
  const list = BY_HEAD.get(key);
  if (list) list.push(k);
  else BY_HEAD.set(key, [k]);
}
// Longest first: `node disconnected from batcher, …` must win over `node disconnected` followed by fields.
for (const list of BY_HEAD.values()) list.sort((a, b) => b.text.length - a.text.length);

export interface Match {
  known: Known;
  /** Index in the searched string just past the message. */
  end: number;
  /** The `chan` (or, without one, `mapSession`) pointer printed inside 0.23–0.28 poll messages. */
  session?: string;
}

/**
 * Matches a known message at `s[from]`, within `s[from, limit)`. With `whole`, the message must fill the region
 * (the JSON `message` value, matched in place between its quotes); otherwise it must be followed by a space or
 * the end (text format, fields follow).
 */
export function matchKnown(s: string, from: number, limit: number, whole: boolean): Match | undefined {
  const sp = s.indexOf(' ', from);
  if (sp === -1 || sp >= limit || sp - from > 60) return undefined; // every known message has two words or more
  const candidates = BY_HEAD.get(headKey(s.charCodeAt(from), sp - from, s.charCodeAt(sp + 1)));
  if (candidates === undefined) return undefined;
  for (const known of candidates) {
    if (!s.startsWith(known.text, from)) continue;
    const end = from + known.text.length;
    if (end > limit) continue;
    if (known.prefix) return { known, end: whole ? limit : end };
    if (end === limit || (!whole && s.charCodeAt(end) === 32)) return { known, end };
    if ((known.rule === 'poll-conn' || known.rule === 'poll-disc') && s.charCodeAt(end) === 44) {
      const ptrs = readPointers(s, end, limit);
      if (ptrs !== undefined && (ptrs.end === limit || (!whole && s.charCodeAt(ptrs.end) === 32))) {
        return { known, end: ptrs.end, session: ptrs.session };
      }
    }
  }
  return undefined;
}

/** `, mapSession: 0xc…, chan: 0xc…` (0.23 alpha12–0.28) or `, mapSession: 0xc…` (0.23 alpha6–11). */
function readPointers(s: string, from: number, limit: number): { session: string; end: number } | undefined {
  const A = ', mapSession: ';
  const B = ', chan: ';
  if (!s.startsWith(A, from)) return undefined;
  const mapStart = from + A.length;
  const comma = s.indexOf(',', mapStart);
  if (comma !== -1 && comma < limit && s.startsWith(B, comma)) {
    const chanStart = comma + B.length;
    let end = s.indexOf(' ', chanStart);
    if (end === -1 || end > limit) end = limit;
    if (end <= chanStart) return undefined;
    return { session: s.slice(chanStart, end), end };
  }
  let end = s.indexOf(' ', mapStart);
  if (end === -1 || end > limit) end = limit;
  if (comma !== -1 && comma < end) return undefined;
  if (end <= mapStart || s.charCodeAt(mapStart) !== 48) return undefined; // a 0x… pointer
  return { session: s.slice(mapStart, end), end };
}
