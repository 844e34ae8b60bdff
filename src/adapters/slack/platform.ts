import type { Logger } from 'pino';
import type { Config } from '../../config/schema.js';
import { ChatDestination, type ChatDestinationOptions } from '../../destinations/chat.js';
import type { Metrics } from '../../http/metrics.js';
import type { SeenSignatures } from '../../store/request-signatures.js';
import type { ChatPlatform } from '../configured.js';
import { slackFromConfig, type SlackAdapter } from './adapter.js';

/** Slack as headwatch sees it: the adapter, its destination (default channel SLACK_CHANNEL) and, in HTTP mode, /slack/events. */
export function slackPlatform(config: Config, logger: Logger, seenSignatures?: SeenSignatures, metrics?: Metrics): ChatPlatform | undefined {
  const adapter = slackFromConfig(config, logger, seenSignatures);
  if (!adapter) return undefined;
  return {
    adapter,
    destination: slackDestination(adapter, config.SLACK_CHANNEL, { logger, ...(metrics ? { metrics } : {}) }),
    // HTTP mode (no app token): Slack posts commands and clicks to this path on headwatch's HTTP server.
    httpRoutes: config.SLACK_APP_TOKEN ? {} : { '/slack/events': adapter.httpHandler() },
  };
}

/** Slack as a destination; a route without a channel means `defaultChannel` (SLACK_CHANNEL). */
export function slackDestination(adapter: SlackAdapter, defaultChannel: string | undefined, watch: Pick<ChatDestinationOptions, 'logger' | 'metrics'> = {}): ChatDestination {
  return new ChatDestination(adapter, { displayName: 'Slack', channelSetting: 'SLACK_CHANNEL', credentialSettings: ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN'], ...(defaultChannel ? { defaultChannel } : {}), ...watch });
}
