import type { ControlErrorClass } from './finding.js';

/**
 * What a Tailscale client's control error text is evidence of. The texts are the client's own format strings
 * (tailscale/tailscale `control/controlclient/direct.go`, `control/controlhttp/client.go`) wrapping what
 * Headscale answered (headscale.md §4.1: `invalid authkey`, `authkey expired`, …) or what Go's TLS stack said.
 */

/** Rejected, expired or mismatched credentials: the node cannot (re)register until it gets a valid key. */
const AUTH = [
  'invalid key', // Tailscale SaaS and `invalid key in … key of …` (corrupt state)
  'invalid authkey',
  'authkey expired',
  'authkey already used',
  'authkey revoked',
  'invalid pre auth key',
  'register request: http 401',
  'cannot decrypt response', // clients < 1.64 whose machine key no longer matches the server's
  'control server is too old; no noise key',
];

const PROXY = /unexpected HTTP response: [34]\d\d|server switched to unexpected protocol/;

/** The first URL host named in the text: `Post "https://hs.example.com:8080/machine/map"` → `hs.example.com`. */
const URL_HOST = /"?(?:https?|wss?):\/\/(\[[^\]]+\]|[^/":\s]+)/;

export function classifyControlError(text: string): ControlErrorClass {
  for (const a of AUTH) if (text.includes(a)) return 'auth';
  if (text.includes('x509: ') || text.includes('tls: ')) return 'tls';
  if (PROXY.test(text)) return 'proxy';
  return 'other';
}

export function controlPeer(text: string): string | undefined {
  const m = URL_HOST.exec(text);
  return m?.[1]?.replace(/^\[|\]$/g, '');
}

/** Login errors worth naming in a summary: the text after `The last login error was: ` or the whole text. */
export function loginError(healthText: string): string {
  const k = healthText.indexOf('The last login error was: ');
  return k === -1 ? healthText : healthText.slice(k + 'The last login error was: '.length);
}
