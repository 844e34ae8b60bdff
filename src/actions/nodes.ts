import { HeadscaleError, type HeadscaleApi, type HsNode } from '../sources/headscale/types.js';
import { CommandError } from '../interaction/types.js';

/** Finds exactly one node by id, hostname or MagicDNS name; ambiguity is an error that lists the ids. */
export async function resolveNode(headscale: HeadscaleApi, ref: string): Promise<HsNode> {
  const nodes = await headscale.listNodes();
  const byId = nodes.find((n) => n.id === ref);
  if (byId) return byId;
  const wanted = ref.toLowerCase();
  const matches = nodes.filter((n) => n.name.toLowerCase() === wanted || n.givenName.toLowerCase() === wanted);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new CommandError(
      `more than one node is called "${ref}" (ids ${matches.map((n) => n.id).join(', ')}); use the id instead`,
    );
  }
  throw new CommandError(`no node with id or name "${ref}"; see the nodes command for the list`);
}

/**
 * Headscale ≤ 0.29 keeps sending keep-alives to a deleted node's live client, which then looks healthy until a
 * server restart strands it (juanfont/headscale#3410, fixed after 0.29.2). Expiring first logs the client out.
 * Unknown versions get the expiry too: expiring a node that is about to be deleted costs nothing.
 */
export function needsExpireBeforeDelete(release: string | undefined): boolean {
  if (!release) return true;
  const m = /^v?(\d+)\.(\d+)/.exec(release);
  if (!m) return true;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  return major === 0 && minor <= 29;
}

export interface DeleteNodeOutcome {
  expiredFirst: boolean;
  release?: string;
}

export async function deleteNode(headscale: HeadscaleApi, nodeId: string): Promise<DeleteNodeOutcome> {
  let release: string | undefined;
  try {
    release = (await headscale.serverInfo()).release;
  } catch {
    release = undefined;
  }
  const expireFirst = needsExpireBeforeDelete(release);
  if (expireFirst) await headscale.expireNode(nodeId);
  await headscale.deleteNode(nodeId);
  return { expiredFirst: expireFirst, ...(release ? { release } : {}) };
}

/**
 * After an interrupted delete: is the node gone? A node with the same id but another name is a newer node that
 * reused the id (SQLite may hand out a deleted row's id again), so the deleted one is gone too.
 */
export async function nodeState(headscale: HeadscaleApi, nodeId: string, name: string | undefined, now: number): Promise<'gone' | 'present' | 'expired'> {
  let node: HsNode;
  try {
    node = await headscale.getNode(nodeId);
  } catch (err) {
    if (err instanceof HeadscaleError && err.code === 'not-found') return 'gone';
    throw err;
  }
  if (name !== undefined && node.name !== name && node.givenName !== name) return 'gone';
  return node.expiry !== null && Date.parse(node.expiry) <= now ? 'expired' : 'present';
}
