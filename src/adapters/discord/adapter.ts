import {
  Client,
  DiscordAPIError,
  Events,
  GatewayIntentBits,
  HTTPError,
  MessageFlags,
  RateLimitError,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type CommandInteractionOption,
  type Interaction,
} from 'discord.js';
import { ConnectionState } from '../connection.js';
import type { Logger } from 'pino';
import type { ImageAttachment, Message } from '../../messages/model.js';
import { attachImageToMessage, imageFile } from './files.js';
import {
  type ButtonClick,
  type ChatAdapter,
  type InteractionHandler,
  type Invocation,
  type MessageRef,
  type PlatformStatus,
  type Responder,
  type SendOptions,
} from '../chat.js';
import { DeliveryError } from '../../destinations/destination.js';
import { renderDiscord, type DiscordBody } from './render.js';

export interface DiscordAdapterOptions {
  token: string;
  applicationId: string;
  guildId: string;
  /** REST base, default https://discord.com/api (DISCORD_API_URL); the client adds /v10. */
  apiUrl?: string;
  logger: Logger;
  restTimeoutMs?: number;
}

/** A handler that has not answered by now gets a deferred acknowledgement: both platforms give up at 3 s, and
 *  the acknowledgement itself still has to travel, so leave half the budget for a slow network or a busy loop. */
const ACK_DEADLINE_MS = 1500;
/** "A thread has already been created for this message." */
const THREAD_EXISTS = 160004;

/**
 * Discord through discord.js (gateway bot). Deliveries use the client's REST manager with its own retries
 * and rate-limit waiting turned off (`retries: 0`, `rejectOnRateLimit`): a 429 surfaces as RateLimitError
 * with its Retry-After, and the durable outbox waits — in SQLite, in order, across restarts — instead of an
 * in-memory queue that a restart would lose. Posts carry a nonce with enforce_nonce, so Discord itself
 * drops a retried post whose first answer was lost.
 */
export class DiscordAdapter implements ChatAdapter {
  readonly platform = 'discord' as const;
  /** The discord.js client (command registration uses it). */
  readonly client: Client;
  private readonly log: Logger;
  private handler: InteractionHandler | undefined;
  private readonly conn = new ConnectionState('discord');
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: DiscordAdapterOptions) {
    this.log = o.logger.child({ component: 'discord' });
    this.client = new Client({
      intents: [GatewayIntentBits.Guilds],
      rest: { api: o.apiUrl ?? 'https://discord.com/api', retries: 0, rejectOnRateLimit: () => true, timeout: o.restTimeoutMs ?? 10_000 },
    });
    this.client.on(Events.ClientReady, () => this.conn.set(true));
    this.client.on(Events.ShardReady, () => this.conn.set(true));
    this.client.on(Events.ShardResume, () => this.conn.set(true));
    this.client.on(Events.ShardDisconnect, (ev) => this.conn.set(false, `gateway closed (${ev.code})`));
    this.client.on(Events.ShardReconnecting, () => this.conn.set(false, 'gateway reconnecting'));
    this.client.on(Events.ShardError, (err) => {
      this.conn.noteError(err.message);
    });
    this.client.on(Events.Error, (err) => this.log.error({ err: { message: err.message } }, 'Discord client error'));
    this.client.on(Events.InteractionCreate, (i) => void this.onInteraction(i));
  }

  setHandler(handler: InteractionHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.client.login(this.o.token);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === 'TokenInvalid' || e.code === 'DisallowedIntents') {
        throw new Error(`Discord rejected DISCORD_TOKEN (${e.code}): check the bot token in the Developer Portal`);
      }
      this.conn.set(false, `login failed: ${e.message ?? 'unknown error'}`);
      this.log.warn(`Discord login failed (${e.message ?? 'unknown error'}); retrying in 5 s`);
      if (!this.stopped) {
        this.retryTimer = setTimeout(() => void this.start().catch((er: Error) => this.log.error(er.message)), 5000);
        this.retryTimer.unref();
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.client.destroy();
    this.conn.set(false, 'stopped');
  }

  status(): PlatformStatus {
    return this.conn.status();
  }


  // --- delivery -----------------------------------------------------------------------------------------

  async send(channelId: string, message: Message, threadOf?: MessageRef, opts?: SendOptions): Promise<MessageRef> {
    const body = {
      ...renderDiscord(message),
      ...(opts?.idempotencyKey ? { nonce: opts.idempotencyKey, enforce_nonce: true } : {}),
    };
    let target = channelId;
    let threadId: string | undefined;
    if (threadOf) {
      threadId = threadOf.threadId ?? (await this.ensureThread(threadOf));
      target = threadId;
    }
    const res = (await this.rest('post a message', () => this.client.rest.post(Routes.channelMessages(target), { body }))) as { id: string };
    return { platform: 'discord', channelId: threadOf?.channelId ?? channelId, messageId: res.id, ...(threadId ? { threadId } : {}) };
  }

  async directMessage(userId: string, message: Message): Promise<MessageRef> {
    const dm = (await this.rest('open a direct message', () => this.client.rest.post(Routes.userChannels(), { body: { recipient_id: userId } }))) as { id: string };
    const res = (await this.rest('send a direct message', () => this.client.rest.post(Routes.channelMessages(dm.id), { body: renderDiscord({ ...message, ephemeral: false }) }))) as { id: string };
    return { platform: 'discord', channelId: dm.id, messageId: res.id };
  }

  /** A thread started from a message has the message's id, so "already exists" is as good as created. */
  private async ensureThread(parent: MessageRef): Promise<string> {
    try {
      const res = (await this.rest('start a thread', () =>
        this.client.rest.post(Routes.threads(parent.channelId, parent.messageId), { body: { name: 'headwatch details', auto_archive_duration: 1440 } }),
      )) as { id: string };
      return res.id;
    } catch (err) {
      if ((err as { discordCode?: number }).discordCode === THREAD_EXISTS) return parent.messageId;
      throw err;
    }
  }

  async edit(ref: MessageRef, message: Message): Promise<void> {
    // A reply lives in its thread; a thread's starter message (threadId === messageId) lives in the channel.
    const channel = ref.threadId && ref.threadId !== ref.messageId ? ref.threadId : ref.channelId;
    const { embeds, components, allowed_mentions } = renderDiscord(message);
    await this.rest('edit a message', () =>
      this.client.rest.patch(Routes.channelMessage(channel, ref.messageId), { body: { embeds, components, allowed_mentions } }),
    );
  }

  async attachImage(ref: MessageRef, image: ImageAttachment): Promise<void> {
    const channel = ref.threadId && ref.threadId !== ref.messageId ? ref.threadId : ref.channelId;
    await this.rest('attach a chart', () => attachImageToMessage(this.client.rest, channel, ref.messageId, image));
  }

  private async rest<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw discordDeliveryError(err, what);
    }
  }

  // --- interaction intake -------------------------------------------------------------------------------

  private async onInteraction(i: Interaction): Promise<void> {
    try {
      if (i.isChatInputCommand()) await this.onCommand(i);
      else if (i.isButton()) await this.onButton(i);
    } catch (err) {
      this.log.error({ err: { message: (err as Error).message } }, 'Discord interaction handling failed');
    }
  }

  private async onCommand(i: ChatInputCommandInteraction): Promise<void> {
    const options: Record<string, string | number | boolean> = {};
    const collect = (list: readonly CommandInteractionOption[]) => {
      for (const o of list) {
        if (o.options) collect(o.options);
        else if (o.value !== undefined && o.value !== null) options[o.name] = o.value;
      }
    };
    collect(i.options.data);
    const invocation: Invocation = {
      platform: 'discord',
      userId: i.user.id,
      userName: i.user.username,
      channelId: i.channelId,
      subcommand: i.options.getSubcommand(false) ?? '',
      rawText: Object.entries(options)
        .map(([k, v]) => `${k}:${String(v)}`)
        .join(' '),
      options,
    };
    const acked = () => i.replied || i.deferred;
    const serial = serialiser();
    const responder: Responder = {
      ack: (m) =>
        serial(async () => {
          if (!acked()) await i.reply(toReply(renderDiscord(m), m.ephemeral === true));
        }),
      replace: (m) =>
        serial(async () => {
          // A picture (the report's CPU chart) rides along as an attachment of the reply itself.
          const files = (m.images ?? []).map(imageFile);
          if (acked()) await i.editReply(toReply(renderDiscord(m), false, files));
          else await i.reply(toReply(renderDiscord(m), m.ephemeral === true, files));
        }),
      private: (m) => serial(() => replyPrivately(i, m)),
      post: (m) => this.send(i.channelId, m),
    };
    await this.withAckDeadline(
      () => this.handler?.onCommand(invocation, responder),
      () =>
        serial(async () => {
          if (!acked()) await i.deferReply({ flags: MessageFlags.Ephemeral });
        }),
    );
  }

  private async onButton(i: ButtonInteraction): Promise<void> {
    const acked = () => i.replied || i.deferred;
    const serial = serialiser();
    const replace = (m: Message) =>
      serial(async () => {
        if (acked()) await i.editReply(toReply(renderDiscord(m), false));
        else await i.update(toReply(renderDiscord(m), false));
      });
    const click: ButtonClick = {
      platform: 'discord',
      userId: i.user.id,
      userName: i.user.username,
      channelId: i.channelId,
      actionId: i.customId,
      message: {
        platform: 'discord',
        channelId: i.channel && 'parentId' in i.channel && i.channel.isThread() && i.channel.parentId ? i.channel.parentId : i.channelId,
        messageId: i.message.id,
      },
      respond: {
        ack: replace,
        replace,
        private: (m) => serial(() => replyPrivately(i, m)),
        post: (m) => this.send(i.channelId, m),
      },
    };
    await this.withAckDeadline(
      () => this.handler?.onButton(click),
      () =>
        serial(async () => {
          if (!acked()) await i.deferUpdate();
        }),
    );
  }

  /** Runs a handler; acknowledges for it if it has not within Discord's 3 s, and after it returns. */
  private async withAckDeadline(run: () => Promise<void> | undefined, fallbackAck: () => Promise<void>): Promise<void> {
    const timer = setTimeout(() => void fallbackAck().catch(() => undefined), ACK_DEADLINE_MS);
    try {
      await run();
    } finally {
      clearTimeout(timer);
      await fallbackAck().catch(() => undefined);
    }
  }
}

function toReply(body: DiscordBody, ephemeral: boolean, files: ReturnType<typeof imageFile>[] = []) {
  return {
    embeds: body.embeds,
    components: body.components,
    allowedMentions: { parse: [] },
    ...(ephemeral ? { flags: MessageFlags.Ephemeral as const } : {}),
    ...(files.length > 0 ? { files } : {}),
  } as never;
}

/** discord.js REST failures → DeliveryError an operator can act on. */
export function discordDeliveryError(err: unknown, what: string): DeliveryError {
  if (err instanceof RateLimitError) {
    const ms = err.retryAfter > 0 ? err.retryAfter : Math.max(err.timeToReset, 100);
    return new DeliveryError(`Discord rate-limited ${what}; retrying after ${(ms / 1000).toFixed(1)} s`, true, ms);
  }
  if (err instanceof DiscordAPIError) {
    const status = err.status;
    const code = typeof err.code === 'number' ? err.code : 0;
    const e = new DeliveryError(
      status >= 500
        ? `Discord answered HTTP ${status} to ${what}; will retry`
        : status === 401
          ? `Discord rejected DISCORD_TOKEN while trying to ${what}: check the bot token`
          : code === 10003
            ? `Discord cannot ${what}: unknown channel; check DISCORD_CHANNEL_ID and that the bot is in the server`
            : code === 50001 || code === 50013
              ? `Discord refused to ${what}: the bot lacks access or permissions (View Channel, Send Messages, Embed Links, Create Public Threads)`
              : `Discord refused to ${what}: ${err.message} (${code || status})`,
      status >= 500 || status === 408,
      undefined,
      status >= 500,
    );
    Object.assign(e, { discordCode: code });
    return e;
  }
  if (err instanceof HTTPError) {
    return new DeliveryError(`Discord answered HTTP ${err.status} to ${what}; will retry`, true, undefined, true);
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new DeliveryError(`could not reach Discord to ${what} (${msg}); will retry`, true, undefined, true);
}

/** Something only the user sees: an ephemeral reply, or an ephemeral follow-up once the interaction was answered. */
async function replyPrivately(i: ChatInputCommandInteraction | ButtonInteraction, m: Message): Promise<void> {
  if (i.replied || i.deferred) await i.followUp(toReply(renderDiscord(m), true));
  else await i.reply(toReply(renderDiscord(m), true));
}

/**
 * Runs an interaction's responses one at a time. Whether to reply, edit or follow up depends on what was
 * already sent, and discord.js only knows once the previous request has returned: a reply racing the
 * fallback deferral would be refused as "already acknowledged".
 */
function serialiser(): <T>(fn: () => Promise<T>) => Promise<T> {
  let chain: Promise<unknown> = Promise.resolve();
  return <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };
}

/** The Discord adapter the settings ask for, or undefined when DISCORD_TOKEN is not set. */
export function discordFromConfig(
  c: { DISCORD_TOKEN?: string | undefined; DISCORD_APPLICATION_ID?: string | undefined; DISCORD_GUILD_ID?: string | undefined; DISCORD_API_URL: string },
  logger: Logger,
): DiscordAdapter | undefined {
  if (!c.DISCORD_TOKEN || !c.DISCORD_APPLICATION_ID || !c.DISCORD_GUILD_ID) return undefined;
  return new DiscordAdapter({ token: c.DISCORD_TOKEN, applicationId: c.DISCORD_APPLICATION_ID, guildId: c.DISCORD_GUILD_ID, apiUrl: c.DISCORD_API_URL, logger });
}
