import { pathToFileURL } from 'node:url';
import { COMMANDS } from '../../../commands/index.js';
import { usageOf, type AnyCommand } from '../../interaction/types.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/**
 * `npm run slack:manifest [-- --url https://headwatch.example.com]`: prints the Slack app manifest (JSON, which
 * Slack's "Create from manifest" accepts) generated from the commands/ modules. Without --url (or with
 * SLACK_APP_TOKEN set) the app uses Socket Mode and needs no public URL; with --url it uses HTTP mode and
 * points the slash command and interactivity at `<url>/slack/events`.
 */
export interface SlackManifestOptions {
  /** Public base URL for HTTP mode. */
  url?: string;
  commands?: readonly AnyCommand[];
}

export function buildSlackManifest(config: Pick<Config, 'HEADWATCH_COMMAND' | 'SLACK_APP_TOKEN'>, opts: SlackManifestOptions = {}): Record<string, unknown> {
  const commands = opts.commands ?? COMMANDS;
  const socket = !opts.url || config.SLACK_APP_TOKEN !== undefined;
  const endpoint = opts.url ? `${opts.url.replace(/\/+$/, '')}/slack/events` : undefined;
  // Slack shows usage_hint next to the command; it is limited to 1000 characters, so long usages are shortened to names.
  let usage = commands.map((c) => usageOf(c)).join(' | ');
  if (usage.length > 1000) usage = commands.map((c) => c.name).join(' | ');
  return {
    _metadata: { major_version: 1, minor_version: 1 },
    display_information: {
      name: 'headwatch',
      description: 'Watches Headscale and Tailscale containers, alerts, and acts with approvals.',
      background_color: '#1f2937',
    },
    features: {
      bot_user: { display_name: 'headwatch', always_online: true },
      slash_commands: [
        {
          command: `/${config.HEADWATCH_COMMAND}`,
          description: 'Headscale nodes, keys, restarts and alerts (headwatch)',
          usage_hint: usage,
          should_escape: false,
          ...(socket ? {} : { url: endpoint }),
        },
      ],
    },
    oauth_config: {
      scopes: {
        // commands: the slash command; chat:write(.public): alerts and approval cards in channels the bot was
        // not invited to; im:write: pre-auth keys delivered to the requester by direct message.
        bot: ['commands', 'chat:write', 'chat:write.public', 'im:write'],
      },
    },
    settings: {
      interactivity: { is_enabled: true, ...(socket ? {} : { request_url: endpoint }) },
      org_deploy_enabled: false,
      socket_mode_enabled: socket,
      token_rotation_enabled: false,
    },
  };
}

function argValue(argv: string[], name: string): string | undefined {
  const i = argv.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i === -1) return undefined;
  const a = argv[i]!;
  return a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[i + 1];
}

export function main(argv = process.argv.slice(2)): number {
  try {
    const config = loadConfig();
    const url = argValue(argv, '--url');
    if (url !== undefined && !/^https:\/\/[^\s]+$/.test(url)) {
      process.stderr.write('--url must be the public https:// base URL of headwatch, e.g. --url https://headwatch.example.com\n');
      return 2;
    }
    process.stdout.write(`${JSON.stringify(buildSlackManifest(config, url ? { url } : {}), null, 2)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : `could not build the manifest: ${(err as Error).message}`}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
