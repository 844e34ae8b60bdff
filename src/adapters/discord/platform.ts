import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { ChatDestination, type ChatDestinationOptions } from '../../destinations/chat.js';
import type { Metrics } from '../../http/metrics.js';
import type { ChatPlatform } from '../configured.js';
import { discordFromConfig, type DiscordAdapter } from './adapter.js';

/** Discord as headwatch sees it: the adapter and its destination (default channel DISCORD_CHANNEL_ID). */
export function discordPlatform(config: Config, logger: Logger, metrics?: Metrics): ChatPlatform | undefined {
  const adapter = discordFromConfig(config, logger);
  if (!adapter) return undefined;
  return {
    adapter,
    destination: discordDestination(adapter, config.DISCORD_CHANNEL_ID, { logger, ...(metrics ? { metrics } : {}) }),
    httpRoutes: {},
  };
}

/** Discord as a destination; a route without a channel means `defaultChannel` (DISCORD_CHANNEL_ID). */
export function discordDestination(adapter: DiscordAdapter, defaultChannel: string | undefined, watch: Pick<ChatDestinationOptions, 'logger' | 'metrics'> = {}): ChatDestination {
  return new ChatDestination(adapter, { displayName: 'Discord', channelSetting: 'DISCORD_CHANNEL_ID', credentialSettings: ['DISCORD_TOKEN'], ...(defaultChannel ? { defaultChannel } : {}), ...watch });
}
