import { pathToFileURL } from 'node:url';
import { COMMANDS } from '../../../commands/index.js';
import { usageOf, type AnyCommand } from '../../interaction/types.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/**
 * `npm run slack:manifest [-- --url https://headwatch.example.com]`: prints the Slack app manifest (JSON, which
 * Slack's "Create from manifest" accepts) generated from the commands/ modules. Without --url (or with
 * SLACK_APP_TOKEN set) the app uses Socket Mode and needs no public URL; with --url it uses HTTP mode and
 * points the slash command and interactivity at `<url>/slack/events`. --url takes the base URL or the full
 * events URL (what Slack's forms ask for); both give the same manifest.
 */
export const USAGE = `Usage: npm run slack:manifest [-- --url <public https URL>]

Prints the Slack app manifest for headwatch (paste it into https://api.slack.com/apps → Create New App → From a manifest).

  (no options)   Socket Mode: no public URL needed; set SLACK_APP_TOKEN (xapp-…) and SLACK_BOT_TOKEN.
  --url <url>    HTTP mode: Slack sends commands and button clicks to <url>/slack/events, served on
                 HEADWATCH_HTTP_PORT. Give the base URL (https://hw.example.com) or the events URL
                 (https://hw.example.com/slack/events); set SLACK_SIGNING_SECRET and SLACK_BOT_TOKEN.
  --help         This text.

The slash command is /$HEADWATCH_COMMAND (default /headscale).
`;

/** The events endpoint for a base URL or for the events URL itself. */
export function slackEventsUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith('/slack/events') ? trimmed : `${trimmed}/slack/events`;
}

export interface SlackManifestOptions {
  /** Public base URL for HTTP mode. */
  url?: string;
  commands?: readonly AnyCommand[];
}

export function buildSlackManifest(config: Pick<Config, 'HEADWATCH_COMMAND' | 'SLACK_APP_TOKEN'>, opts: SlackManifestOptions = {}): Record<string, unknown> {
  const commands = opts.commands ?? COMMANDS;
  const socket = !opts.url || config.SLACK_APP_TOKEN !== undefined;
  const endpoint = opts.url ? slackEventsUrl(opts.url) : undefined;
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
        // not invited to; im:write: pre-auth keys delivered to the requester by direct message; files:write: CPU
        // charts uploaded into alert threads (files.getUploadURLExternal + files.completeUploadExternal).
        bot: ['commands', 'chat:write', 'chat:write.public', 'im:write', 'files:write'],
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

/** Reads `--url <v>` / `--url=<v>` and `--help`; anything else is a usage error. */
function parseArgs(argv: string[]): { help: boolean; url?: string; error?: string } {
  const out: { help: boolean; url?: string; error?: string } = { help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--url' || a.startsWith('--url=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (!v) return { ...out, error: '--url needs a value, e.g. --url https://headwatch.example.com' };
      out.url = v;
    } else return { ...out, error: `unknown argument "${a}"` };
  }
  return out;
}

/** Exit codes: 0 printed, 2 bad arguments or settings. */
export function main(argv = process.argv.slice(2)): number {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.error) {
    process.stderr.write(`${args.error}\n\n${USAGE}`);
    return 2;
  }
  const url = args.url;
  if (url !== undefined && !(/^https:\/\/[^\s]+$/.test(url) && URL.canParse(url))) {
    process.stderr.write('--url must be the public https:// URL of headwatch, e.g. --url https://headwatch.example.com (or …/slack/events)\n');
    return 2;
  }
  try {
    const config = loadConfig();
    if (url && config.SLACK_APP_TOKEN) process.stderr.write('SLACK_APP_TOKEN is set, so the manifest uses Socket Mode and --url is not used.\n');
    process.stdout.write(`${JSON.stringify(buildSlackManifest(config, url ? { url } : {}), null, 2)}\n`);
    return 0;
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return 2;
    }
    process.stderr.write(`could not build the manifest: ${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = main();
