import type { HeadscaleApi, HsPreAuthKey } from '../sources/headscale/types.js';

export interface CreateKeyInput {
  /** Owner; omitted for a key that only carries tags (Headscale 0.28+ tagged nodes have no user). */
  user?: string;
  reusable: boolean;
  ephemeral: boolean;
  /** How long the key stays valid, counted from creation (not from the request). */
  expirationMs: number;
  tags: string[];
}

export async function createKey(headscale: HeadscaleApi, input: CreateKeyInput, now: number): Promise<HsPreAuthKey> {
  return headscale.createPreAuthKey({
    ...(input.user !== undefined ? { user: input.user } : {}),
    reusable: input.reusable,
    ephemeral: input.ephemeral,
    // Always sent: without it Headscale stores year 1, an already expired key (headscale.md §4.1).
    expiration: new Date(now + input.expirationMs),
    tags: input.tags,
  });
}

/** Expires a pre-auth key so it can no longer register nodes (one nobody received, or one left over). */
export async function expireKey(headscale: HeadscaleApi, key: Pick<HsPreAuthKey, 'id' | 'key' | 'user'>): Promise<void> {
  await headscale.expirePreAuthKey(key);
}

/**
 * The part of a pre-auth key that may be shown in channels, logs and the audit log. 0.28+ keys are
 * `hskey-auth-<12-char prefix>-<secret>` and Headscale itself lists them by that prefix; older keys are
 * 48 hex characters, of which 6 identify the key well enough to find it in `headscale preauthkeys list`.
 */
export function keyPrefix(key: string): string {
  const m = /^(hskey-auth-[A-Za-z0-9]+-)/.exec(key);
  if (m) return `${m[1]}…`;
  return `${key.slice(0, Math.min(6, Math.floor(key.length / 4)))}…`;
}

/**
 * After an interrupted create-key: the user's keys with these flags created since `since` and still valid. Nobody
 * received them (the key only ever went to the requester, after creation).
 */
export async function keysCreatedSince(
  headscale: HeadscaleApi,
  input: Pick<CreateKeyInput, 'user' | 'reusable' | 'ephemeral'>,
  since: number,
  now: number,
): Promise<HsPreAuthKey[]> {
  const keys = await headscale.listPreAuthKeys(input.user);
  return keys.filter(
    (k) =>
      k.createdAt !== null &&
      Date.parse(k.createdAt) >= since - 1000 &&
      k.reusable === input.reusable &&
      k.ephemeral === input.ephemeral &&
      (k.expiration === null || Date.parse(k.expiration) > now),
  );
}
