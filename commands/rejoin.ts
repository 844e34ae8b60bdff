import { z } from 'zod';
import { CommandError, defineCommand } from '../src/interaction/types.js';
import { findOwner, rejoinable, rejoinContainer, REJOIN_KEY_TTL_MS } from '../src/actions/rejoin.js';
import { permits, resolveCommandTarget } from '../src/actions/containers.js';
import { CONTAINER_REF, nameOnHost } from '../src/sources/docker/names.js';
import { humanDuration, message, utc } from '../src/interaction/format.js';

/**
 * `rejoin <container> [--user alice] [--login-server https://hs.example.com]`: re-registers a watched Tailscale
 * container in place with a fresh single-use pre-auth key (tailscale.md §5.2 B). Always approved first. The key
 * goes to the container only: channels, cards, the audit log and the log see its prefix.
 */
export const rejoinCommand = defineCommand({
  name: 'rejoin',
  description: 'Re-register a Tailscale container with a fresh single-use key (needs approval)',
  options: [
    { name: 'container', description: 'Watched Tailscale container name', type: 'string', required: true, positional: true },
    { name: 'user', description: 'Headscale user for the key (default: owner of the node named like the container)', type: 'string' },
    { name: 'login-server', description: 'Headscale URL as the container reaches it (default HEADSCALE_URL)', type: 'string' },
  ],
  access: 'operate',
  needsApproval: () => true,
  // Buttons (e.g. on incident messages) may ask for it: commandButton('rejoin', { container }, …).
  button: { what: 're-register containers' },
  schema: z
    .object({
      container: z.string().regex(CONTAINER_REF, { error: 'container must be a Docker container name (or host/container)' }),
      user: z.string().regex(/^[\p{L}\p{N}._@+-]{1,64}$/u, { error: 'user must be a Headscale user name (letters, digits, . _ @ + -)' }).optional(),
      'login-server': z
        .string()
        .max(300, { error: 'login-server must be at most 300 characters' })
        .refine((v) => {
          try {
            const u = new URL(v);
            return (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
          } catch {
            return false;
          }
        }, { error: 'login-server must be an http(s) URL such as https://hs.example.com' })
        .optional(),
      // Filled in by prepare and kept with the request, so the card and the action name the same user/server.
      loginServer: z.string().optional(),
      userFrom: z.string().optional(),
    })
    .transform(({ 'login-server': ls, ...rest }) => ({ ...rest, ...(ls !== undefined && rest.loginServer === undefined ? { loginServer: ls } : {}) })),
  async prepare(ctx, args) {
    const { config, docker, headscale } = ctx.deps;
    const target = resolveCommandTarget(docker, args.container);
    if ('error' in target) throw new CommandError(target.error);
    const container = target.name;
    const allowed = rejoinable(config, docker);
    if (!permits(allowed, container, docker)) {
      const list = allowed.length ? allowed.join(', ') : 'none (no Tailscale containers are watched)';
      throw new CommandError(
        `${container} cannot be re-registered from chat. Watched Tailscale containers: ${list}. Watch it (or add it to HEADWATCH_RESTARTABLE) to allow it.`,
      );
    }
    let user = args.user;
    let userFrom = 'given with --user';
    if (user === undefined) {
      const owner = await findOwner(headscale, docker, container);
      if (owner.kind === 'ambiguous') {
        throw new CommandError(
          `Nodes named like ${container} (${owner.names.join(', ')}) belong to more than one user (${owner.users.join(', ')}); say which with --user <name>.`,
        );
      }
      if (owner.kind === 'none') {
        throw new CommandError(
          `No Headscale node is named like ${container} (${owner.names.join(', ')}), so its user is unknown; say which user the key is for with --user <name>.`,
        );
      }
      user = owner.user;
      userFrom = `owner of node ${owner.node}`;
    } else {
      const users = await headscale.listUsers();
      if (!users.some((u) => u.name === user)) {
        throw new CommandError(`Headscale has no user ${user}; users: ${users.map((u) => u.name).join(', ') || 'none'}.`);
      }
    }
    const loginServer = args.loginServer;
    const where = loginServer ?? `the container's own --login-server, else ${config.HEADSCALE_URL.replace(/\/+$/, '')}`;
    return {
      args: { container, user, ...(loginServer ? { loginServer } : {}), userFrom },
      summary: `re-register container ${container} as user ${user} (${userFrom}) with a fresh single-use key valid ${humanDuration(REJOIN_KEY_TTL_MS)}, login server ${where}`,
    };
  },
  manualCheck: (args) =>
    `\`docker exec ${args.container.replace(/^\//, '')} tailscale status\` (connected to Headscale means it re-registered), and expire any unused single-use key with \`headscale preauthkeys list${args.user ? ` --user ${args.user}` : ''}\``,
  async run(ctx, args) {
    const { headscale, docker, logger, clock, config } = ctx.deps;
    if (args.user === undefined) throw new CommandError('rejoin needs a user; run it again with --user <name>.');
    const outcome = await rejoinContainer(
      { headscale, docker, logger },
      { container: args.container, user: args.user, ...(args.loginServer ? { loginServer: args.loginServer } : {}), defaultLoginServer: config.HEADSCALE_URL.replace(/\/+$/, '') },
      clock(),
    );
    const loginServer = outcome.loginServer;
    const expires = utc(outcome.expires);
    const facts = { container: args.container, user: args.user, loginServer, keyId: outcome.keyId, keyPrefix: outcome.keyPrefix, expires };
    const output = outcome.outputTail ? ` Output: ${outcome.outputTail}` : '';
    if (!outcome.ok) {
      const what =
        outcome.execError !== undefined
          ? `tailscale up could not be run in ${args.container}: ${outcome.execError}`
          : outcome.exitCode === -1
            ? `tailscale up in ${args.container} ended without an exit code (the container may have stopped: containerboot exits when tailscaled leaves Running); check it with ${ctx.command} nodes`
            : `tailscale up in ${args.container} exited with code ${outcome.exitCode}`;
      const key = outcome.keyExpired
        ? `Key ${outcome.keyPrefix} was expired again.`
        : `Expiring key ${outcome.keyPrefix} failed: expire it with \`headscale preauthkeys expire\`.`;
      logger.warn({ ...facts, exitCode: outcome.exitCode ?? null, keyExpired: outcome.keyExpired }, 'rejoin failed');
      throw new CommandError(`Re-registering ${args.container} failed: ${what}.${output} ${key}`);
    }
    const restated = outcome.restated ? ", restating the container's containerboot preferences" : '';
    const summary = `Re-registered ${args.container} as user ${args.user} with single-use key ${outcome.keyPrefix} (expires ${expires}) against ${loginServer}${restated}; tailscale up exited 0.${output}`;
    return {
      message: message(summary, 'ok', [
        { type: 'text', text: `Re-registered \`${args.container}\` as user ${args.user}; \`tailscale up --force-reauth\` exited 0.` },
        {
          type: 'fields',
          fields: [
            { label: 'Key', value: `${outcome.keyPrefix} (single-use, expires ${expires})` },
            { label: 'Login server', value: loginServer },
            { label: 'Preferences', value: outcome.restated ? "restated from the container's TS_ settings" : 'none found to restate (not a containerboot container)' },
            ...(outcome.outputTail ? [{ label: 'Output', value: outcome.outputTail }] : []),
          ],
        },
        {
          type: 'context',
          text: 'On its next start containerboot sends TS_AUTHKEY again: update it in the container definition or set TS_AUTH_ONCE=true.',
        },
      ]),
      audit: { ...facts, exitCode: outcome.exitCode ?? null },
    };
  },
});
