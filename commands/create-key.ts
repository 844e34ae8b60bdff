import { z } from 'zod';
import { parseDuration } from '../src/config/schema.js';
import { defineCommand } from '../src/interaction/types.js';
import { createKey, expireKey, keyPrefix, keysCreatedSince } from '../src/actions/keys.js';
import { humanDuration, message, utc } from '../src/interaction/format.js';

const MAX_EXPIRATION_MS = 90 * 86_400_000;

/**
 * `create-key <user> [--reusable] [--ephemeral] [--expiration 1h] [--tags tag:a,tag:b]`. The key itself is
 * returned only as `secret` (shown once, privately, to the requester); the channel and the audit log get the
 * prefix and expiry.
 */
export const createKeyCommand = defineCommand({
  name: 'create-key',
  description: 'Create a pre-auth key, shown only to you (needs approval unless HEADWATCH_KEY_APPROVAL=false)',
  options: [
    { name: 'user', description: 'Headscale user that will own the nodes', type: 'string', required: true, positional: true },
    { name: 'reusable', description: 'Key can register more than one node', type: 'boolean' },
    { name: 'ephemeral', description: 'Nodes are removed when they go offline', type: 'boolean' },
    { name: 'expiration', description: 'How long the key is valid, e.g. 30m, 1h, 7d (default 1h, max 90d)', type: 'string' },
    { name: 'tags', description: 'ACL tags, comma separated: tag:a,tag:b', type: 'string' },
  ],
  access: 'operate',
  deliversSecret: true,
  needsApproval: (config) => config.HEADWATCH_KEY_APPROVAL,
  schema: z.object({
    user: z.string().regex(/^[\p{L}\p{N}._@+-]{1,64}$/u, { error: 'user must be a Headscale user name (letters, digits, . _ @ + -)' }),
    reusable: z.boolean().default(false),
    ephemeral: z.boolean().default(false),
    expiration: z
      .string()
      .default('1h')
      .transform((v, ctx) => {
        const ms = parseDuration(v);
        if (ms === undefined || ms < 60_000 || ms > MAX_EXPIRATION_MS) {
          ctx.addIssue({ code: 'custom', message: 'expiration must be a duration between 1m and 90d, such as 30m, 1h or 7d' });
          return z.NEVER;
        }
        return ms;
      }),
    tags: z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined || v.trim() === '') return [] as string[];
        const tags = v.split(',').map((t) => t.trim()).filter((t) => t.length > 0);
        const bad = tags.find((t) => !/^tag:[a-z0-9][a-z0-9_-]{0,62}$/i.test(t));
        if (bad !== undefined) {
          ctx.addIssue({ code: 'custom', message: 'tags must be a comma list like tag:server,tag:prod (each starting with tag:)' });
          return z.NEVER;
        }
        return [...new Set(tags)];
      }),
  }),
  async prepare(_ctx, args) {
    const flags = [args.reusable ? 'reusable' : 'single-use', args.ephemeral ? 'ephemeral' : undefined, args.tags.length ? `tags ${args.tags.join(',')}` : undefined]
      .filter(Boolean)
      .join(', ');
    return { args, summary: `create a pre-auth key for user ${args.user} (${flags}; valid ${humanDuration(args.expiration)})` };
  },
  async run(ctx, args) {
    const { headscale, clock } = ctx.deps;
    const created = await createKey(
      headscale,
      { user: args.user, reusable: args.reusable, ephemeral: args.ephemeral, expirationMs: args.expiration, tags: args.tags },
      clock(),
    );
    const prefix = keyPrefix(created.key);
    const expires = created.expiration ? utc(Date.parse(created.expiration)) : utc(clock() + args.expiration);
    const kind = [args.reusable ? 'reusable' : 'single-use', args.ephemeral ? 'ephemeral' : undefined].filter(Boolean).join(', ');
    const publicText = `Created pre-auth key ${prefix} for user ${args.user} (${kind}${args.tags.length ? `; ${args.tags.join(',')}` : ''}), expires ${expires}. The key was sent privately to ${ctx.actor.userName ?? ctx.actor.principal}.`;
    const secretText = `Your pre-auth key for user ${args.user} (expires ${expires}). It is shown only once, here:`;
    return {
      message: message(publicText, 'ok', [
        { type: 'text', text: `Created pre-auth key \`${prefix}\` for user ${args.user}.` },
        {
          type: 'fields',
          fields: [
            { label: 'Kind', value: kind },
            { label: 'Tags', value: args.tags.length ? args.tags.join(', ') : 'none' },
            { label: 'Expires', value: expires },
            { label: 'Delivered to', value: `${ctx.actor.userName ?? ctx.actor.principal} (privately)` },
          ],
        },
      ]),
      secret: message(`${secretText} ${created.key}`, 'info', [
        { type: 'text', text: secretText },
        { type: 'code', text: created.key },
        { type: 'context', text: 'Use it with: tailscale up --login-server=<your headscale URL> --auth-key=<key>. headwatch does not keep a copy.' },
      ], true),
      revokeSecret: () => expireKey(headscale, created),
      audit: { user: args.user, keyId: created.id, keyPrefix: prefix, expires, reusable: args.reusable, ephemeral: args.ephemeral, tags: args.tags },
    };
  },
  async verifyInterrupted(ctx, args, claimedAt) {
    const { headscale, clock } = ctx.deps;
    const made = await keysCreatedSince(headscale, args, claimedAt, clock());
    if (made.length === 0) return { outcome: 'not-run', detail: `no pre-auth key for user ${args.user} was created after ${utc(claimedAt)}` };
    // The key was never shown to anyone: it must not stay usable.
    for (const k of made) await expireKey(headscale, k);
    const keys = made.map((k) => keyPrefix(k.key)).join(', ');
    return {
      outcome: 'completed',
      undone: true,
      detail: `pre-auth key ${keys} for user ${args.user} was created, but headwatch stopped before it reached the requester, so it was expired again. Run the command again`,
    };
  },
  manualCheck: (args) =>
    `\`headscale preauthkeys list --user ${args.user}\` for a key created after the approval, and expire it with \`headscale preauthkeys expire\` (nobody received it)`,
});
