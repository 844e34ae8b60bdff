import { pathToFileURL } from 'node:url';
import { COMMANDS } from '../../../commands/index.js';
import type { AnyCommand, OptionDef } from '../../interaction/types.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';

/**
 * `npm run discord:register [-- --print]`: builds the Discord application command (one `/headscale` with a
 * subcommand per commands/ module) and PUTs it to the guild in DISCORD_GUILD_ID (instant) or, without a guild,
 * globally. `--print` only prints the JSON.
 */
const OPTION_TYPE = { string: 3, integer: 4, boolean: 5 } as const;
const SUB_COMMAND = 1;
const CHAT_INPUT = 1;
const NAME = /^[-_\p{Ll}\p{N}]{1,32}$/u;

export interface DiscordOption {
  type: number;
  name: string;
  description: string;
  required?: boolean;
  choices?: { name: string; value: string }[];
  options?: DiscordOption[];
}

export interface DiscordCommand {
  type: number;
  name: string;
  description: string;
  options: DiscordOption[];
  /** Guild only: slash commands for a tailnet make no sense in DMs. */
  contexts: number[];
}

function option(o: OptionDef): DiscordOption {
  return {
    type: OPTION_TYPE[o.type],
    name: o.name,
    description: o.description,
    ...(o.required ? { required: true } : {}),
    ...(o.choices ? { choices: o.choices.map((c) => ({ name: c, value: c })) } : {}),
  };
}

/** Throws with every Discord rule the definitions break, so a bad module fails here and not at Discord. */
export function buildDiscordCommands(config: Pick<Config, 'HEADWATCH_COMMAND'>, commands: readonly AnyCommand[] = COMMANDS): DiscordCommand[] {
  const problems: string[] = [];
  if (commands.length > 25) problems.push(`${commands.length} subcommands; Discord allows 25`);
  const subs = commands.map((c): DiscordOption => {
    if (!NAME.test(c.name)) problems.push(`subcommand name "${c.name}" is not a valid Discord name`);
    if (c.description.length < 1 || c.description.length > 100) problems.push(`${c.name}: description must be 1–100 characters`);
    if (c.options.length > 25) problems.push(`${c.name}: more than 25 options`);
    for (const o of c.options) {
      if (!NAME.test(o.name)) problems.push(`${c.name}: option name "${o.name}" is not a valid Discord name`);
      if (o.description.length < 1 || o.description.length > 100) problems.push(`${c.name} ${o.name}: description must be 1–100 characters`);
    }
    // Discord requires required options before optional ones; the order otherwise stays as declared.
    const ordered = [...c.options.filter((o) => o.required), ...c.options.filter((o) => !o.required)];
    return { type: SUB_COMMAND, name: c.name, description: c.description, options: ordered.map(option) };
  });
  if (problems.length > 0) throw new Error(`the command modules break Discord's rules:\n  - ${problems.join('\n  - ')}`);
  return [
    {
      type: CHAT_INPUT,
      name: config.HEADWATCH_COMMAND,
      description: 'Headscale nodes, keys, restarts and alerts (headwatch)',
      options: subs,
      contexts: [0],
    },
  ];
}

/**
 * What the bot needs in the alert channel, and nothing more: see it, post and edit its own messages (embeds, the CPU
 * chart as a file), read the message it starts a thread from, and post in that thread. No administrator, no
 * manage-anything, no privileged gateway intents (it connects with the Guilds intent only).
 */
export const DISCORD_PERMISSIONS = {
  'View Channels': 1n << 10n,
  'Send Messages': 1n << 11n,
  'Embed Links': 1n << 14n,
  'Attach Files': 1n << 15n,
  'Read Message History': 1n << 16n,
  'Create Public Threads': 1n << 35n,
  'Send Messages in Threads': 1n << 38n,
} as const;
/** `bot` joins the bot user to the server; `applications.commands` lets it register `/headscale` there. */
export const DISCORD_SCOPES = ['bot', 'applications.commands'] as const;

/** The OAuth2 URL a server admin opens to add the bot with exactly those scopes and permissions. */
export function discordInviteUrl(applicationId: string, guildId?: string): string {
  const permissions = Object.values(DISCORD_PERMISSIONS).reduce((a, b) => a | b, 0n);
  const q = new URLSearchParams({ client_id: applicationId, scope: DISCORD_SCOPES.join(' '), permissions: String(permissions) });
  if (guildId) q.set('guild_id', guildId);
  return `https://discord.com/oauth2/authorize?${q.toString().replace(/\+/g, '%20')}`;
}

export interface RegisterResult {
  url: string;
  registered: { id: string; name: string }[];
}

/** PUTs the definitions (bulk overwrite: removed subcommands disappear too). */
export async function registerDiscordCommands(
  config: Pick<Config, 'HEADWATCH_COMMAND' | 'DISCORD_TOKEN' | 'DISCORD_APPLICATION_ID' | 'DISCORD_GUILD_ID' | 'DISCORD_API_URL'>,
): Promise<RegisterResult> {
  if (!config.DISCORD_TOKEN) throw new ConfigError(['DISCORD_TOKEN: required to register the Discord command']);
  if (!config.DISCORD_APPLICATION_ID) throw new ConfigError(['DISCORD_APPLICATION_ID: required to register the Discord command']);
  const base = config.DISCORD_API_URL.replace(/\/+$/, '');
  const path = config.DISCORD_GUILD_ID
    ? `/applications/${config.DISCORD_APPLICATION_ID}/guilds/${config.DISCORD_GUILD_ID}/commands`
    : `/applications/${config.DISCORD_APPLICATION_ID}/commands`;
  const url = `${base}/v10${path}`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'PUT',
      headers: { authorization: `Bot ${config.DISCORD_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(buildDiscordCommands(config)),
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new Error(`could not reach Discord at ${base} (${(err as Error).message}); check DISCORD_API_URL and the network`);
  }
  const body = await res.text();
  if (!res.ok) {
    let detail = body.slice(0, 300);
    try {
      const j = JSON.parse(body) as { message?: string; code?: number; errors?: unknown };
      detail = `${j.message ?? ''}${j.code !== undefined ? ` (code ${j.code})` : ''}${j.errors ? ` ${JSON.stringify(j.errors).slice(0, 300)}` : ''}`;
    } catch {
      /* not JSON: keep the text */
    }
    const hint =
      res.status === 401
        ? ' DISCORD_TOKEN was refused: copy the bot token again from the Developer Portal.'
        : res.status === 403 || res.status === 404
          ? ' Check DISCORD_APPLICATION_ID and DISCORD_GUILD_ID, and that the bot was invited with the applications.commands scope.'
          : '';
    throw new Error(`Discord refused the command registration: HTTP ${res.status} ${detail}.${hint}`);
  }
  const registered = (JSON.parse(body) as { id: string; name: string }[]).map((c) => ({ id: c.id, name: c.name }));
  return { url, registered };
}

export async function main(argv = process.argv.slice(2)): Promise<number> {
  try {
    const config = loadConfig();
    if (argv.includes('--invite')) {
      if (!config.DISCORD_APPLICATION_ID) throw new ConfigError(['DISCORD_APPLICATION_ID: required for the invite URL (Developer Portal → General Information → Application ID)']);
      process.stdout.write(`${discordInviteUrl(config.DISCORD_APPLICATION_ID, config.DISCORD_GUILD_ID)}\n`);
      return 0;
    }
    if (argv.includes('--print')) {
      process.stdout.write(`${JSON.stringify(buildDiscordCommands(config), null, 2)}\n`);
      return 0;
    }
    const r = await registerDiscordCommands(config);
    const where = config.DISCORD_GUILD_ID ? `guild ${config.DISCORD_GUILD_ID}` : 'all guilds (global; may take up to an hour to appear)';
    process.stdout.write(`Registered /${config.HEADWATCH_COMMAND} with ${buildDiscordCommands(config)[0]!.options.length} subcommands for ${where}.\n`);
    for (const c of r.registered) process.stdout.write(`  ${c.name} (${c.id})\n`);
    if (!config.DISCORD_GUILD_ID) process.stdout.write(`Invite the bot (if not done yet): ${discordInviteUrl(config.DISCORD_APPLICATION_ID!)}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) process.exitCode = await main();
