import { ConnectionState } from '../connection.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import type { ImageAttachment, Message } from '../../messages/model.js';
import { uploadImage, uploadImageToThread } from './files.js';
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
import { isConnectivityError, slackDeliveryError } from './errors.js';
import { renderSlack } from './render.js';
import { readBody, reject, SlackRequestGuard } from './verify.js';
import type { SeenSignatures } from '../../store/request-signatures.js';

export interface SlackAdapterOptions {
  botToken: string;
  /** Set: Socket Mode (no public URL). Unset: HTTP mode, mount httpHandler() at /slack/events. */
  appToken?: string;
  signingSecret?: string;
  /** Web API base, default https://slack.com/api/ (SLACK_API_URL). */
  apiUrl?: string;
  logger: Logger;
  /** Socket Mode keep-alive (Slack's default 5000 ms). */
  clientPingTimeoutMs?: number;
  /** Longest wait between two Socket Mode connection attempts while Slack is unreachable (default 5000 ms). */
  reconnectMaxMs?: number;
  /** Clock for request-signature freshness (tests). */
  clock?: () => number;
  /** Where HTTP mode remembers accepted request signatures (SQLite in the app, so replays fail after a restart). */
  seenSignatures?: SeenSignatures;
  /** Web API request timeout. */
  timeoutMs?: number;
}

const METADATA_EVENT = 'headwatch_delivery';
/** First waits between Socket Mode connection attempts; the last one repeats (bounded by reconnectMaxMs). */
const RECONNECT_STEPS_MS = [0, 1000, 2000, 4000];
/** A refused app token will not fix itself within seconds: ask again only once a minute. */
const RECONNECT_REFUSED_MS = 60_000;
/** A handler that has not answered by now gets a deferred acknowledgement: both platforms give up at 3 s, and
 *  the acknowledgement itself still has to travel, so leave half the budget for a slow network or a busy loop. */
const ACK_DEADLINE_MS = 1500;

/** Bolt's logger interface on top of pino (Bolt's own debug chatter stays at debug). */
function boltLogger(log: Logger) {
  let level = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...m: unknown[]) => log.debug(text(m)),
    info: (...m: unknown[]) => log.info(text(m)),
    warn: (...m: unknown[]) => log.warn(text(m)),
    error: (...m: unknown[]) => log.error(text(m)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

/**
 * Slack through Bolt: Socket Mode when an app token is given, else HTTP mode (signature-checked requests on
 * /slack/events, mounted by the HTTP server). The WebClient's own retries are off: the outbox owns retry,
 * order and Retry-After.
 */
export class SlackAdapter implements ChatAdapter {
  readonly platform = 'slack' as const;
  readonly mode: 'socket' | 'http';
  private readonly app: App;
  private readonly receiver: SocketModeReceiver | HTTPReceiver;
  private readonly guard: SlackRequestGuard | undefined;
  private readonly log: Logger;
  private handler: InteractionHandler | undefined;
  private readonly conn = new ConnectionState('slack');
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  /** A Socket Mode connection attempt is under way (one at a time). */
  private connecting = false;
  private failedAttempts = 0;

  constructor(private readonly o: SlackAdapterOptions) {
    this.log = o.logger.child({ component: 'slack' });
    const slackApiUrl = o.apiUrl ?? 'https://slack.com/api/';
    const clientOptions = {
      slackApiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: o.timeoutMs ?? 10_000,
    };
    const logger = boltLogger(this.log);
    if (o.appToken) {
      this.mode = 'socket';
      // Reconnection is ours (connectSocket): Slack's own retries apps.connections.open for many minutes inside one
      // call and, after a dropped socket, gives up for good when that call fails (an unhandled rejection).
      const receiver = new SocketModeReceiver({
        appToken: o.appToken,
        logger,
        clientPingTimeout: o.clientPingTimeoutMs ?? 5000,
        autoReconnectEnabled: false,
        installerOptions: { clientOptions: { slackApiUrl, retryConfig: { retries: 0 }, timeout: o.timeoutMs ?? 10_000 } },
      });
      receiver.client.on('connected', () => {
        this.failedAttempts = 0;
        this.conn.set(true);
      });
      receiver.client.on('disconnected', () => {
        this.conn.set(false, 'Socket Mode connection closed');
        if (!this.stopped && !this.connecting) this.scheduleReconnect(false);
      });
      this.receiver = receiver;
    } else {
      if (!o.signingSecret) throw new DeliveryError('Slack HTTP mode needs SLACK_SIGNING_SECRET (or set SLACK_APP_TOKEN for Socket Mode)', false);
      this.mode = 'http';
      this.guard = new SlackRequestGuard(o.signingSecret, o.clock, o.seenSignatures);
      this.receiver = new HTTPReceiver({ signingSecret: o.signingSecret, endpoints: '/slack/events', logger, unhandledRequestTimeoutMillis: 3001 });
    }
    // tokenVerificationEnabled=false: no auth.test inside the constructor (it crashes the process when Slack
    // is unreachable at boot); start() checks the token itself.
    this.app = new App({ token: o.botToken, receiver: this.receiver, clientOptions, logger, tokenVerificationEnabled: false });
    this.app.error(async (err) => {
      this.log.error({ err: { message: err.message, code: (err as { code?: string }).code } }, 'Slack handler failed');
    });
    this.registerIntake();
  }

  setHandler(handler: InteractionHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    this.stopped = false;
    try {
      await this.app.client.auth.test();
    } catch (err) {
      const de = slackDeliveryError(err, 'check the bot token (auth.test)');
      if (!de.retryable) throw new Error(de.message);
      this.conn.set(false, de.message);
    }
    if (this.mode === 'http') {
      if (!this.conn.error) this.conn.set(true);
      return;
    }
    await this.connectSocket();
  }

  /** One Socket Mode connection attempt; on failure the next is scheduled with bounded backoff. */
  private async connectSocket(): Promise<void> {
    if (this.connecting || this.stopped) return;
    this.connecting = true;
    try {
      await this.app.start();
      if (this.stopped) await (this.receiver as SocketModeReceiver).client.disconnect().catch(() => undefined);
    } catch (err) {
      const de = slackDeliveryError(err, 'open the Socket Mode connection (SLACK_APP_TOKEN)');
      this.conn.set(false, de.message);
      this.scheduleReconnect(!de.retryable, de.retryAfterMs);
    } finally {
      this.connecting = false;
    }
  }

  private scheduleReconnect(refused: boolean, retryAfterMs?: number): void {
    if (this.stopped || this.retryTimer) return;
    const max = this.o.reconnectMaxMs ?? 5000;
    const step = RECONNECT_STEPS_MS[this.failedAttempts] ?? max;
    const delay = refused ? RECONNECT_REFUSED_MS : (retryAfterMs ?? Math.min(step, max));
    this.failedAttempts++;
    if (this.failedAttempts > 1) {
      const level = refused || this.failedAttempts === 3 ? 'warn' : 'debug';
      this.log[level](`Slack Socket Mode is not connected (${this.conn.error ?? 'no answer'}); trying again in ${Math.round(delay / 1000)} s`);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connectSocket();
    }, delay);
    this.retryTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.mode === 'socket') await (this.receiver as SocketModeReceiver).client.disconnect().catch(() => undefined);
    this.conn.set(false, 'stopped');
  }

  status(): PlatformStatus {
    return this.conn.status();
  }


  /** Tracks Web API reachability (HTTP mode has no other connection to watch). */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      const r = await fn();
      if (this.mode === 'http') this.conn.set(true);
      return r;
    } catch (err) {
      if (this.mode === 'http' && isConnectivityError(err)) this.conn.set(false, slackDeliveryError(err, what).message);
      throw slackDeliveryError(err, what);
    }
  }

  // --- delivery -----------------------------------------------------------------------------------------

  /** chat.postMessage to a user id lands in the app's direct-message conversation with that user. */
  async directMessage(userId: string, message: Message): Promise<MessageRef> {
    return this.send(userId, { ...message, ephemeral: false });
  }

  async send(channelId: string, message: Message, threadOf?: MessageRef, opts?: SendOptions): Promise<MessageRef> {
    const { text, blocks } = renderSlack(message);
    const res = await this.call('post a message', () =>
      this.app.client.chat.postMessage({
        channel: threadOf?.channelId ?? channelId,
        text,
        blocks,
        unfurl_links: false,
        unfurl_media: false,
        ...(threadOf ? { thread_ts: threadOf.threadId ?? threadOf.messageId } : {}),
        ...(opts?.idempotencyKey ? { metadata: { event_type: METADATA_EVENT, event_payload: { key: opts.idempotencyKey } } } : {}),
      }),
    );
    if (!res.ts || !res.channel) throw new DeliveryError('Slack accepted the message but returned no ts', true, undefined, true);
    return {
      platform: 'slack',
      channelId: res.channel,
      messageId: res.ts,
      ...(threadOf ? { threadId: threadOf.threadId ?? threadOf.messageId } : {}),
    };
  }

  async edit(ref: MessageRef, message: Message): Promise<void> {
    const { text, blocks } = renderSlack(message);
    await this.call('update a message', () => this.app.client.chat.update({ channel: ref.channelId, ts: ref.messageId, text, blocks }));
  }

  async attachImage(ref: MessageRef, image: ImageAttachment): Promise<void> {
    await this.call('upload a chart', () => uploadImageToThread(this.app.client, ref, image));
  }

  /** Looks for a message carrying our idempotency key in its metadata (after a lost answer). */
  async findSent(channelId: string, key: string, opts: { threadOf?: MessageRef; sinceMs: number }): Promise<MessageRef | undefined> {
    try {
      return await this.lookup(channelId, key, opts);
    } catch (err) {
      // Slack reachable but the look-up refused (e.g. a channel name instead of an id, or no history scope):
      // sending again is the lesser evil than never sending.
      if (err instanceof DeliveryError && !err.retryable) {
        this.log.warn(`could not check for an earlier copy before re-sending (${err.message}); sending again`);
        return undefined;
      }
      throw err;
    }
  }

  private async lookup(channelId: string, key: string, opts: { threadOf?: MessageRef; sinceMs: number }): Promise<MessageRef | undefined> {
    const oldest = (opts.sinceMs / 1000).toFixed(6);
    const res = opts.threadOf
      ? await this.call('look for an earlier reply', () =>
          this.app.client.conversations.replies({
            channel: opts.threadOf!.channelId,
            ts: opts.threadOf!.threadId ?? opts.threadOf!.messageId,
            oldest,
            include_all_metadata: true,
            limit: 200,
          }),
        )
      : await this.call('look for an earlier post', () =>
          this.app.client.conversations.history({ channel: channelId, oldest, include_all_metadata: true, limit: 200 }),
        );
    const hit = (res.messages ?? []).find(
      (m) => m.metadata?.event_type === METADATA_EVENT && (m.metadata.event_payload as { key?: string } | undefined)?.key === key,
    );
    if (!hit?.ts) return undefined;
    return {
      platform: 'slack',
      channelId: opts.threadOf?.channelId ?? channelId,
      messageId: hit.ts,
      ...(opts.threadOf ? { threadId: opts.threadOf.threadId ?? opts.threadOf.messageId } : {}),
    };
  }

  // --- HTTP mode ----------------------------------------------------------------------------------------

  /**
   * Node request handler for POST /slack/events in HTTP mode (the composition root mounts it on headwatch's
   * HTTP server as the /slack/events route). Forged, stale and replayed requests get 401 and reach no handler.
   */
  httpHandler(): (req: IncomingMessage, res: ServerResponse) => void {
    if (this.mode !== 'http' || !this.guard) throw new Error('httpHandler() is for Slack HTTP mode (SLACK_APP_TOKEN is set: Socket Mode)');
    const guard = this.guard;
    const listener = (this.receiver as HTTPReceiver).requestListener;
    return (req, res) => {
      void (async () => {
        const path = (req.url ?? '').split('?')[0];
        if (req.method !== 'POST' || path !== '/slack/events') return reject(res, 404);
        let body: Buffer;
        try {
          body = await readBody(req);
        } catch {
          return reject(res, 413);
        }
        // Every request, ssl_check included, passes the guard: nothing unsigned gets an answer beyond 401.
        const why = guard.check(body, req.headers);
        if (why) {
          this.log.warn({ reason: why }, 'rejected a Slack request (401): it is not signed by Slack with SLACK_SIGNING_SECRET, or it is stale or replayed');
          return reject(res, 401);
        }
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = body;
        try {
          listener(req, res);
        } catch {
          reject(res, 404);
        }
      })().catch((err: Error) => {
        this.log.error({ err: { message: err.message } }, 'Slack request handling failed');
        if (!res.headersSent) reject(res, 500);
      });
    };
  }

  // --- interaction intake -------------------------------------------------------------------------------

  private registerIntake(): void {
    this.app.command(/.*/, async ({ command, ack, respond, client }) => {
      const text = command.text.trim();
      const space = text.search(/\s/);
      const invocation: Invocation = {
        platform: 'slack',
        userId: command.user_id,
        userName: command.user_name,
        channelId: command.channel_id,
        subcommand: space < 0 ? text : text.slice(0, space),
        rawText: space < 0 ? '' : text.slice(space + 1).trim(),
      };
      let acked = false;
      const doAck = async (m?: Message) => {
        if (acked) return;
        acked = true;
        if (!m) return ack();
        const r = renderSlack(m);
        await ack({ response_type: m.ephemeral === false ? 'in_channel' : 'ephemeral', text: r.text, blocks: r.blocks } as never);
      };
      const responder: Responder = {
        ack: (placeholder) => doAck(placeholder),
        replace: async (m) => {
          if (!acked) await doAck(m);
          else {
            const r = renderSlack(m);
            await respond({ replace_original: true, response_type: m.ephemeral === false ? 'in_channel' : 'ephemeral', text: r.text, blocks: r.blocks } as never);
          }
          // Pictures of a channel answer (the report's CPU chart) follow as an upload into the same channel.
          if (m.ephemeral === false) for (const image of m.images ?? []) await this.call('upload a chart', () => uploadImage(client, command.channel_id, image));
        },
        private: async (m) => {
          if (!acked) return doAck({ ...m, ephemeral: true });
          const r = renderSlack(m);
          await respond({ response_type: 'ephemeral', replace_original: false, text: r.text, blocks: r.blocks } as never);
        },
        post: async (m) => {
          const r = renderSlack(m);
          const res = await client.chat.postMessage({ channel: command.channel_id, text: r.text, blocks: r.blocks });
          return { platform: 'slack', channelId: res.channel ?? command.channel_id, messageId: res.ts ?? '' };
        },
      };
      await this.runWithAckDeadline(() => this.handler?.onCommand(invocation, responder), () => doAck(), 'command');
    });

    this.app.action(/.*/, async ({ ack, body, action, respond, client }) => {
      await ack();
      if (body.type !== 'block_actions' || !('action_id' in action)) return;
      const channelId = body.channel?.id ?? body.container?.channel_id ?? '';
      const messageTs: string = body.container?.message_ts ?? body.message?.ts ?? '';
      const ephemeral = body.container?.is_ephemeral === true;
      const replace = async (m: Message) => {
        const r = renderSlack(m);
        if (ephemeral) await respond({ replace_original: true, text: r.text, blocks: r.blocks } as never);
        else await client.chat.update({ channel: channelId, ts: messageTs, text: r.text, blocks: r.blocks });
      };
      const click: ButtonClick = {
        platform: 'slack',
        userId: body.user.id,
        ...(body.user.name || body.user.username ? { userName: body.user.name ?? body.user.username } : {}),
        channelId,
        actionId: action.action_id,
        message: { platform: 'slack', channelId, messageId: messageTs },
        respond: {
          ack: replace,
          replace,
          private: async (m) => {
            const r = renderSlack(m);
            await respond({ response_type: 'ephemeral', replace_original: false, text: r.text, blocks: r.blocks } as never);
          },
          post: async (m) => {
            const r = renderSlack(m);
            const res = await client.chat.postMessage({ channel: channelId, text: r.text, blocks: r.blocks });
            return { platform: 'slack', channelId: res.channel ?? channelId, messageId: res.ts ?? '' };
          },
        },
      };
      await this.handler?.onButton(click);
    });
  }

  /** Runs a handler; if it has not acknowledged within Slack's 3 s, acknowledges for it. */
  private async runWithAckDeadline(run: () => Promise<void> | undefined, fallbackAck: () => Promise<void>, what: string): Promise<void> {
    const timer = setTimeout(() => void fallbackAck().catch(() => undefined), ACK_DEADLINE_MS);
    try {
      await run();
    } catch (err) {
      this.log.error({ err: { message: (err as Error).message } }, `Slack ${what} handler failed`);
    } finally {
      clearTimeout(timer);
      await fallbackAck().catch(() => undefined);
    }
  }
}

/** The Slack adapter the settings ask for, or undefined when SLACK_BOT_TOKEN is not set. */
export function slackFromConfig(
  c: { SLACK_BOT_TOKEN?: string | undefined; SLACK_APP_TOKEN?: string | undefined; SLACK_SIGNING_SECRET?: string | undefined; SLACK_API_URL: string },
  logger: Logger,
  seenSignatures?: SeenSignatures,
): SlackAdapter | undefined {
  if (!c.SLACK_BOT_TOKEN) return undefined;
  return new SlackAdapter({
    botToken: c.SLACK_BOT_TOKEN,
    ...(c.SLACK_APP_TOKEN ? { appToken: c.SLACK_APP_TOKEN } : {}),
    ...(c.SLACK_SIGNING_SECRET ? { signingSecret: c.SLACK_SIGNING_SECRET } : {}),
    apiUrl: c.SLACK_API_URL,
    logger,
    ...(seenSignatures ? { seenSignatures } : {}),
  });
}
