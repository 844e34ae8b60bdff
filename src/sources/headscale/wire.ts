import type { HsNode, HsPreAuthKey, HsUser } from './types.js';

/**
 * Wire shapes of Headscale 0.22–0.30 (grpc-gateway protojson, re-implemented by hand in 0.30: lowerCamelCase, uint64 as strings, unset
 * timestamps as null) and their mapping to the release-neutral types. Everything is read defensively: a
 * field that is absent or of an unexpected type becomes an empty value instead of an exception, because a
 * proxy or an unreleased server may differ in details.
 */

/** Go's zero time, which Headscale stores and returns for "no expiry" on some paths. */
const ZERO_TIME = /^0001-01-01T00:00:00(?:\.0+)?Z$/;

export type Wire = Record<string, unknown>;

export function isObject(v: unknown): v is Wire {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** `null`, absent, empty and year 1 all mean "not set / never". */
export function timestamp(v: unknown): string | null {
  if (typeof v !== 'string' || v === '' || ZERO_TIME.test(v)) return null;
  return v;
}

export function toUser(v: unknown): HsUser | null {
  if (!isObject(v)) return null;
  return { id: str(v.id), name: str(v.name) };
}

/** 0.22 Machine and 0.23+ Node. Tags: 0.28+ `tags`; before, forced + valid tags (invalid ones do not apply). */
export function toNode(v: unknown): HsNode {
  const w = isObject(v) ? v : {};
  const tags = Array.isArray(w.tags) ? strings(w.tags) : [...new Set([...strings(w.forcedTags), ...strings(w.validTags)])];
  return {
    id: str(w.id),
    name: str(w.name),
    givenName: str(w.givenName),
    user: toUser(w.user),
    online: w.online === true,
    lastSeen: timestamp(w.lastSeen),
    expiry: timestamp(w.expiry),
    createdAt: timestamp(w.createdAt),
    ipAddresses: strings(w.ipAddresses),
    tags,
  };
}

/**
 * PreAuthKey.user is a user name (string) up to 0.25 and a User object from 0.26; `usersByName` fills in the
 * id for the old form when the caller knows it.
 */
export function toPreAuthKey(v: unknown, usersByName?: Map<string, HsUser>): HsPreAuthKey {
  const w = isObject(v) ? v : {};
  let user: HsUser | null = null;
  if (typeof w.user === 'string') {
    user = w.user === '' ? null : (usersByName?.get(w.user) ?? { id: '', name: w.user });
  } else {
    user = toUser(w.user);
  }
  return {
    id: str(w.id),
    key: str(w.key),
    user,
    reusable: w.reusable === true,
    ephemeral: w.ephemeral === true,
    used: w.used === true,
    expiration: timestamp(w.expiration),
    createdAt: timestamp(w.createdAt),
    aclTags: strings(w.aclTags),
  };
}

export function listOf(body: unknown, field: string): unknown[] {
  if (!isObject(body)) return [];
  const v = body[field];
  return Array.isArray(v) ? v : [];
}
