import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { SeenSignatures } from '../store/request-signatures.js';
import type { SlackAdapter } from './slack/adapter.js';
import type { DiscordAdapter } from './discord/adapter.js';

/**
 * The chat adapters the configuration asks for. Each platform's SDK is imported only when that platform is
 * configured: @slack/bolt and discord.js together cost ~0.6 s and ~35 MB at start, which a console-only
 * headwatch on a small VPS should not pay.
 */
export async function configuredChatAdapters(
  config: Config,
  logger: Logger,
  seenSignatures?: SeenSignatures,
): Promise<{ slack?: SlackAdapter; discord?: DiscordAdapter }> {
  const slack = config.SLACK_BOT_TOKEN ? (await import('./slack/adapter.js')).slackFromConfig(config, logger, seenSignatures) : undefined;
  const discord = config.DISCORD_TOKEN ? (await import('./discord/adapter.js')).discordFromConfig(config, logger) : undefined;
  return { ...(slack ? { slack } : {}), ...(discord ? { discord } : {}) };
}
