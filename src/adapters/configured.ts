import type { Logger } from 'pino';
import type { Config } from '../config/schema.js';
import type { Destination } from '../destinations/destination.js';
import type { Metrics } from '../http/metrics.js';
import type { RouteHandler } from '../http/server.js';
import type { SeenSignatures } from '../store/request-signatures.js';
import type { ChatAdapter, Platform } from './chat.js';

/** One configured chat platform: what the router talks to, what the dispatcher delivers to, what HTTP serves. */
export interface ChatPlatform {
  adapter: ChatAdapter;
  destination: Destination;
  /** Paths the platform needs on headwatch's HTTP server (Slack HTTP mode: /slack/events). */
  httpRoutes: Record<string, RouteHandler>;
}

/**
 * The chat platforms the configuration asks for; the one list of platforms (a new one is a folder under
 * src/adapters/ with its platform.ts, and a line here). Each platform's SDK is imported only when that platform
 * is configured: @slack/bolt and discord.js together cost ~0.6 s and ~35 MB at start, which a console-only
 * headwatch on a small VPS should not pay.
 */
export async function configuredChatPlatforms(config: Config, logger: Logger, seenSignatures?: SeenSignatures, metrics?: Metrics): Promise<ChatPlatform[]> {
  const platforms = [
    config.SLACK_BOT_TOKEN ? (await import('./slack/platform.js')).slackPlatform(config, logger, seenSignatures, metrics) : undefined,
    config.DISCORD_TOKEN ? (await import('./discord/platform.js')).discordPlatform(config, logger, metrics) : undefined,
  ];
  return platforms.filter((p): p is ChatPlatform => p !== undefined);
}

/**
 * Each connected platform's alert channel (SLACK_CHANNEL, DISCORD_CHANNEL_ID): where approval requests are
 * shown on every platform when more than one is configured.
 */
export function alertChannelsOf(config: Pick<Config, 'SLACK_CHANNEL' | 'DISCORD_CHANNEL_ID'>, chat: readonly ChatAdapter[]): { platform: Platform; channelId: string }[] {
  const channel: Record<Platform, string | undefined> = { slack: config.SLACK_CHANNEL, discord: config.DISCORD_CHANNEL_ID };
  return chat.flatMap((a) => (channel[a.platform] ? [{ platform: a.platform, channelId: channel[a.platform]! }] : []));
}
