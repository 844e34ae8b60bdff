import { z } from 'zod';
import { defineCommand } from '../src/interaction/types.js';
import { deleteNode, nodeState, resolveNode } from '../src/actions/nodes.js';
import { message } from '../src/interaction/format.js';

/** `delete-node <id|name>`: always approved first; on Headscale ≤ 0.29 the node is expired before deletion. */
export const deleteNodeCommand = defineCommand({
  name: 'delete-node',
  description: 'Delete a node (needs approval); on Headscale ≤ 0.29 it is expired first',
  options: [{ name: 'node', description: 'Node id or name', type: 'string', required: true, positional: true }],
  access: 'operate',
  needsApproval: () => true,
  schema: z.object({
    node: z.string().regex(/^[\p{L}\p{N}._-]{1,63}$/u, { error: 'node must be a node id or a host name' }),
    // Filled in by prepare, kept with the request so the card and the action name the same node.
    id: z.string().optional(),
    label: z.string().optional(),
  }),
  async prepare(ctx, args) {
    const node = await resolveNode(ctx.deps.headscale, args.node);
    const label = `${node.name}${node.user ? `, user ${node.user.name}` : ''}`;
    return { args: { node: args.node, id: node.id, label }, summary: `delete node ${node.id} (${label})` };
  },
  async run(ctx, args) {
    const id = args.id ?? (await resolveNode(ctx.deps.headscale, args.node)).id;
    const outcome = await deleteNode(ctx.deps.headscale, id);
    const what = `Deleted node ${id}${args.label ? ` (${args.label})` : ''}`;
    const note = outcome.expiredFirst
      ? 'The node was expired first so its client is logged out (Headscale ≤ 0.29 keeps deleted clients connected, headscale#3410).'
      : undefined;
    return {
      message: message(`${what}.${note ? ` ${note}` : ''}`, 'ok', [
        { type: 'text', text: `${what}.` },
        ...(note ? [{ type: 'context' as const, text: note }] : []),
      ]),
      audit: { nodeId: id, expiredFirst: outcome.expiredFirst, release: outcome.release ?? null },
    };
  },
  async verifyInterrupted(ctx, args) {
    const id = args.id ?? args.node;
    const what = `node ${id}${args.label ? ` (${args.label})` : ''}`;
    const state = await nodeState(ctx.deps.headscale, id, args.label?.split(', user ')[0], ctx.deps.clock());
    if (state === 'gone') return { outcome: 'completed', detail: `${what} is no longer in Headscale` };
    return {
      outcome: 'not-run',
      detail: `${what} is still in Headscale${state === 'expired' ? '; it was expired (its client is logged out) but not deleted' : ''}`,
    };
  },
  manualCheck: (args) => `\`headscale nodes list\` for node ${args.id ?? args.node}${args.label ? ` (${args.label})` : ''}`,
});
