import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Faults, type FaultRule } from '../faults.js';
import { parseMultipart, pngInfo, type FormPart } from '../multipart.js';

/**
 * A protocol-faithful local Discord for the real discord.js v14 client: REST under /api/v10 (what
 * discord.js calls: gateway/bot, messages, threads, commands, interaction callbacks, webhooks) and the
 * gateway at /gateway (HELLO, IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME, INTERACTION_CREATE).
 * Posts honour `nonce` + `enforce_nonce` like Discord (a retried post returns the first message).
 * Everything is recorded so tests assert on what users would see.
 */

export interface DiscordMessage {
  id: string;
  channel_id: string;
  content: string;
  embeds: Record<string, unknown>[];
  components: Record<string, unknown>[];
  flags: number;
  nonce?: string;
  /** Set for messages inside a thread: the parent channel. */
  thread_parent?: string;
  edits: number;
  history: { embeds: unknown[]; components: unknown[]; content: string }[];
  interaction_id?: string;
  webhook_id?: string;
  /** Files attached to the message (multipart `files[n]` parts), as Discord describes them. */
  attachments: DiscordAttachment[];
}

export interface DiscordAttachment {
  id: string;
  filename: string;
  description?: string;
  content_type?: string;
  size: number;
  width?: number;
  height?: number;
  bytes: Buffer;
}

export interface DiscordCall {
  method: string;
  path: string;
  auth: string | undefined;
  body: unknown;
  status: number;
  fault?: string;
}

export interface InteractionCallback {
  interactionId: string;
  type: number;
  data: Record<string, unknown>;
}

export const GUILD_ID = '1100000000000000001';
export const CHANNEL_ID = '1100000000000000002';
export const APP_ID = '1100000000000000003';
export const BOT_ID = APP_ID;

let counter = 0;
export function snowflake(): string {
  counter = (counter + 1) % 4096;
  return ((BigInt(Date.now() - 1420070400000) << 22n) | BigInt(counter)).toString();
}

export class FakeDiscord {
  readonly calls: DiscordCall[] = [];
  readonly messages: DiscordMessage[] = [];
  readonly callbacks: InteractionCallback[] = [];
  readonly followUps: DiscordMessage[] = [];
  readonly commands = new Map<string, unknown[]>();
  readonly threads = new Map<string, string>(); // thread id → parent channel id
  readonly faults = new Faults();
  readonly frames: { dir: 'in' | 'out'; op: number; t?: string | null }[] = [];
  private server!: Server;
  private wss!: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly conns = new Set<Socket>();
  private seq = 0;
  private sessionId = 'session-1';
  private readonly interactions = new Map<string, { token: string; message?: DiscordMessage; original?: DiscordMessage; channelId: string }>();
  port = 0;
  /** While true, gateway connections are refused (an outage the client cannot reconnect through). */
  refuseGateway = false;
  /**
   * Discord's per-channel bucket for message edits, when set: every PATCH of a channel's message counts in its
   * channel's window; answers carry the real API's X-RateLimit-* headers (discord.js reads them), and an edit over
   * the limit is answered 429 with Retry-After and recorded in `rateLimited`. The window follows `clock` (a
   * test's injected clock, or Date.now).
   */
  editBucket: { limit: number; resetAfterMs: number; clock: () => number } | undefined;
  /** Requests answered 429 by the edit bucket (not injected faults). */
  readonly rateLimited: DiscordCall[] = [];
  private readonly buckets = new Map<string, { start: number; used: number }>();
  identifies = 0;
  resumes = 0;

  constructor(private readonly opts: { token?: string; heartbeatMs?: number } = {}) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${this.port}/api`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.onRequest(req, res));
    // The platforms' edges keep an idle connection about a minute; Node's default of 5 s made clients reusing a pooled
    // socket after a slow stretch hit ECONNRESET (a retry a second later: the storm test's edit spacing, under load).
    this.server.keepAliveTimeout = 65_000;
    this.server.on('connection', (c) => {
      this.conns.add(c);
      c.on('close', () => this.conns.delete(c));
    });
    this.wss = new WebSocketServer({ noServer: true });
    this.server.on('upgrade', (req, socket, head) => {
      if (!req.url?.startsWith('/gateway') || this.refuseGateway) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // --- controls -----------------------------------------------------------------------------------------

  /** e.g. `fail({ match: /^POST \/channels\/\d+\/messages$/, kind: 'ratelimit', retryAfterSec: 0.3 })`. */
  fail(rule: FaultRule): void {
    this.faults.add(rule);
  }

  heal(): void {
    this.faults.clear();
  }

  /** Closes the gateway with a code: 4000 → the client resumes; 4004 → fatal (authentication failed). */
  closeGateway(code = 4000): void {
    for (const ws of this.sockets) ws.close(code, 'closed by fake');
  }

  /** Cuts the gateway without a close frame. */
  dropGateway(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  get gatewayCount(): number {
    return this.sockets.size;
  }

  // --- readers ------------------------------------------------------------------------------------------

  channelMessages(channelId = CHANNEL_ID): DiscordMessage[] {
    return this.messages.filter((m) => m.channel_id === channelId);
  }

  threadMessages(threadId: string): DiscordMessage[] {
    return this.messages.filter((m) => m.channel_id === threadId && m.thread_parent);
  }

  callsTo(method: string, pattern: RegExp): DiscordCall[] {
    return this.calls.filter((c) => c.method === method && pattern.test(c.path) && c.status < 300 && !c.fault);
  }

  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > until) throw new Error('timed out waiting for the fake Discord');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // --- interaction injection ----------------------------------------------------------------------------

  private base(type: number, userId: string, userName: string, channelId: string) {
    const id = snowflake();
    const token = `itoken-${id}`;
    return {
      id,
      token,
      payload: {
        id,
        application_id: APP_ID,
        type,
        token,
        version: 1,
        guild_id: GUILD_ID,
        channel_id: channelId,
        channel: { id: channelId, type: 0, guild_id: GUILD_ID, name: 'ops' },
        member: {
          user: { id: userId, username: userName, discriminator: '0', global_name: userName, avatar: null },
          roles: [],
          permissions: '2147483647',
          joined_at: new Date().toISOString(),
        },
        app_permissions: '2147483647',
        locale: 'en-US',
        guild_locale: 'en-US',
        entitlements: [],
        authorizing_integration_owners: { '0': GUILD_ID },
        context: 0,
      } as Record<string, unknown>,
    };
  }

  /**
   * Dispatches a slash command. `options` are typed values (string → 3, integer → 4, boolean → 5);
   * with `subcommand` they are nested under a type-1 option. Returns the interaction id.
   */
  slashCommand(p: { name?: string; subcommand?: string; options?: Record<string, string | number | boolean>; userId?: string; userName?: string; channelId?: string }): string {
    const channelId = p.channelId ?? CHANNEL_ID;
    const { id, token, payload } = this.base(2, p.userId ?? '1200000000000000001', p.userName ?? 'alice', channelId);
    const typed = Object.entries(p.options ?? {}).map(([name, value]) => ({
      name,
      type: typeof value === 'boolean' ? 5 : typeof value === 'number' && Number.isInteger(value) ? 4 : typeof value === 'number' ? 10 : 3,
      value,
    }));
    const registered = [...this.commands.values()].flat().find((c) => (c as { name?: string }).name === (p.name ?? 'headscale')) as { id?: string } | undefined;
    payload['data'] = {
      id: registered?.id ?? snowflake(),
      name: p.name ?? 'headscale',
      type: 1,
      guild_id: GUILD_ID,
      options: p.subcommand ? [{ name: p.subcommand, type: 1, options: typed }] : typed,
    };
    this.interactions.set(id, { token, channelId });
    this.dispatch('INTERACTION_CREATE', payload);
    return id;
  }

  /** Dispatches a button click on a message the bot posted (channel post or interaction reply). */
  clickButton(p: { messageId: string; customId: string; userId?: string; userName?: string }): string {
    const msg = [...this.messages, ...this.followUps].find((m) => m.id === p.messageId);
    if (!msg) throw new Error(`no message ${p.messageId} to click on`);
    const { id, token, payload } = this.base(3, p.userId ?? '1200000000000000001', p.userName ?? 'alice', msg.channel_id);
    payload['data'] = { custom_id: p.customId, component_type: 2 };
    payload['message'] = this.toApi(msg);
    this.interactions.set(id, { token, message: msg, channelId: msg.channel_id });
    this.dispatch('INTERACTION_CREATE', payload);
    return id;
  }

  callbacksFor(interactionId: string): InteractionCallback[] {
    return this.callbacks.filter((c) => c.interactionId === interactionId);
  }

  /** The message a type-4/5 callback created (what the user sees as the command's reply). */
  originalReply(interactionId: string): DiscordMessage | undefined {
    return this.interactions.get(interactionId)?.original;
  }

  // --- gateway ------------------------------------------------------------------------------------------

  private send(ws: WebSocket, op: number, d: unknown, t: string | null = null): void {
    const frame = { op, d, s: op === 0 ? ++this.seq : null, t };
    this.frames.push({ dir: 'out', op, t });
    ws.send(JSON.stringify(frame));
  }

  private dispatch(t: string, d: unknown): void {
    const ws = [...this.sockets][0];
    if (!ws) throw new Error('no gateway connection');
    this.send(ws, 0, d, t);
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { op: number; d: Record<string, unknown> };
      this.frames.push({ dir: 'in', op: f.op });
      if (f.op === 1) this.send(ws, 11, null);
      else if (f.op === 2) {
        this.identifies++;
        if (this.opts.token && f.d['token'] !== this.opts.token) return ws.close(4004, 'Authentication failed.');
        this.sessionId = `session-${this.identifies}`;
        this.send(
          ws,
          0,
          {
            v: 10,
            user: { id: BOT_ID, username: 'headwatch', discriminator: '0', bot: true, avatar: null, global_name: null },
            application: { id: APP_ID, flags: 0 },
            guilds: [{ id: GUILD_ID, unavailable: true }],
            session_id: this.sessionId,
            resume_gateway_url: `ws://127.0.0.1:${this.port}/gateway`,
            shard: [0, 1],
          },
          'READY',
        );
        this.send(ws, 0, this.guild(), 'GUILD_CREATE');
      } else if (f.op === 6) {
        this.resumes++;
        this.send(ws, 0, null, 'RESUMED');
      }
    });
    this.send(ws, 10, { heartbeat_interval: this.opts.heartbeatMs ?? 1000 });
  }

  private guild() {
    return {
      id: GUILD_ID,
      name: 'headwatch',
      icon: null,
      owner_id: '1200000000000000009',
      unavailable: false,
      joined_at: new Date().toISOString(),
      member_count: 2,
      large: false,
      features: [],
      roles: [{ id: GUILD_ID, name: '@everyone', permissions: '2147483647', position: 0, color: 0, hoist: false, managed: false, mentionable: false, flags: 0 }],
      channels: [{ id: CHANNEL_ID, type: 0, guild_id: GUILD_ID, name: 'ops', position: 0, permission_overwrites: [] }],
      threads: [],
      members: [],
      emojis: [],
      stickers: [],
      voice_states: [],
      presences: [],
      stage_instances: [],
      guild_scheduled_events: [],
      soundboard_sounds: [],
    };
  }

  // --- REST ---------------------------------------------------------------------------------------------

  private toApi(m: DiscordMessage) {
    return {
      id: m.id,
      channel_id: m.channel_id,
      guild_id: GUILD_ID,
      type: m.interaction_id ? 20 : 0,
      content: m.content,
      embeds: m.embeds,
      components: m.components,
      flags: m.flags,
      author: { id: BOT_ID, username: 'headwatch', discriminator: '0', bot: true, avatar: null, global_name: null },
      attachments: m.attachments.map(({ bytes: _bytes, ...a }) => ({ ...a, url: `http://127.0.0.1:${this.port}/attachments/${m.channel_id}/${a.id}/${a.filename}`, proxy_url: `http://127.0.0.1:${this.port}/attachments/${m.channel_id}/${a.id}/${a.filename}` })),
      mentions: [],
      mention_roles: [],
      mention_everyone: false,
      pinned: false,
      tts: false,
      timestamp: new Date().toISOString(),
      edited_timestamp: m.edits > 0 ? new Date().toISOString() : null,
      ...(m.nonce ? { nonce: m.nonce } : {}),
      ...(m.webhook_id ? { webhook_id: m.webhook_id, application_id: APP_ID } : {}),
      ...(m.interaction_id ? { interaction_metadata: { id: m.interaction_id, type: 2, user: { id: '1200000000000000001', username: 'alice', discriminator: '0', avatar: null, global_name: 'alice' }, authorizing_integration_owners: { '0': GUILD_ID } } } : {}),
    };
  }

  private newMessage(channelId: string, body: Record<string, unknown>, extra: Partial<DiscordMessage> = {}): DiscordMessage {
    const m: DiscordMessage = {
      id: snowflake(),
      channel_id: channelId,
      content: String(body['content'] ?? ''),
      embeds: (body['embeds'] as Record<string, unknown>[]) ?? [],
      components: (body['components'] as Record<string, unknown>[]) ?? [],
      flags: Number(body['flags'] ?? 0),
      edits: 0,
      history: [],
      attachments: [],
      ...extra,
    };
    m.history.push({ embeds: m.embeds, components: m.components, content: m.content });
    return m;
  }

  /**
   * New files of a request as Discord stores them: each `files[n]` part with its `attachments` entry (id n)
   * for the description; an image part must really be that image. A string says what is wrong (→ 400).
   */
  private uploaded(files: FormPart[], body: Record<string, unknown>): DiscordAttachment[] | string {
    const entries = Array.isArray(body['attachments']) ? (body['attachments'] as { id?: string | number; description?: string; filename?: string }[]) : [];
    const out: DiscordAttachment[] = [];
    for (const f of files) {
      const n = f.name.slice('files['.length, -1);
      const entry = entries.find((e) => String(e.id) === n);
      const filename = entry?.filename ?? f.filename ?? `file${n}`;
      const png = pngInfo(f.data);
      if ((f.contentType === 'image/png' || filename.endsWith('.png')) && !png) return `${f.name} (${filename}) is not a PNG`;
      out.push({ id: snowflake(), filename, size: f.data.length, bytes: f.data, ...(f.contentType ? { content_type: f.contentType } : {}), ...(png ?? {}), ...(entry?.description ? { description: entry.description } : {}) });
    }
    return out;
  }

  private edit(m: DiscordMessage, body: Record<string, unknown>, added: DiscordAttachment[] = []): void {
    // `attachments` on an edit lists what to keep (existing ids) plus the new uploads; without it, uploads append.
    if (Array.isArray(body['attachments'])) {
      const keep = new Set((body['attachments'] as { id?: string | number }[]).map((a) => String(a.id)));
      m.attachments = [...m.attachments.filter((a) => keep.has(a.id)), ...added];
    } else m.attachments = [...m.attachments, ...added];
    if (body['content'] !== undefined) m.content = String(body['content']);
    if (body['embeds'] !== undefined) m.embeds = body['embeds'] as Record<string, unknown>[];
    if (body['components'] !== undefined) m.components = body['components'] as Record<string, unknown>[];
    if (body['flags'] !== undefined) m.flags = Number(body['flags']) & ~128;
    m.edits++;
    m.history.push({ embeds: m.embeds, components: m.components, content: m.content });
  }

  private knownChannel(id: string): boolean {
    return id === CHANNEL_ID || this.threads.has(id) || [...this.dmChannels.values()].includes(id);
  }

  /** DM channel id per recipient user id (POST /users/@me/channels). */
  readonly dmChannels = new Map<string, string>();

  /** Messages the bot sent to a user's DM channel. */
  directMessages(userId: string): DiscordMessage[] {
    const ch = this.dmChannels.get(userId);
    return ch ? this.messages.filter((m) => m.channel_id === ch) : [];
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://x');
    const path = decodeURIComponent(url.pathname).replace(/^\/api\/v10/, '');
    const method = req.method ?? 'GET';
    let body: Record<string, unknown> = {};
    let files: FormPart[] = [];
    const ctype = req.headers['content-type'] ?? '';
    const call: DiscordCall = { method, path, auth: req.headers.authorization, body, status: 200 };
    this.calls.push(call);
    if (ctype.includes('application/json') && raw) body = JSON.parse(raw) as Record<string, unknown>;
    else if (ctype.includes('multipart/form-data')) {
      // Files travel as `files[n]` parts beside `payload_json` (@discordjs/rest builds this with FormData).
      try {
        const parts = parseMultipart(Buffer.concat(chunks), ctype);
        const payload = parts.find((x) => x.name === 'payload_json');
        if (payload) body = JSON.parse(payload.data.toString('utf8')) as Record<string, unknown>;
        files = parts.filter((x) => /^files\[\d+\]$/.test(x.name));
      } catch (err) {
        return this.json(res, call, 400, { message: `Invalid Form Body: ${(err as Error).message}`, code: 50035 });
      }
    }
    call.body = body;

    const fault = this.faults.take(`${method} ${path}`);
    if (fault) {
      call.fault = fault.kind;
      if (fault.kind === 'drop' && fault.when === 'before') return void req.socket.destroy();
      if (fault.kind === 'status') return this.json(res, call, fault.status, { message: 'Internal Server Error', code: 0 });
      if (fault.kind === 'ratelimit') {
        return this.json(res, call, 429, { message: 'You are being rate limited.', retry_after: fault.retryAfterSec, global: false }, {
          'retry-after': String(Math.ceil(fault.retryAfterSec)),
          'x-ratelimit-scope': 'user',
        });
      }
      if (fault.kind === 'error') return this.json(res, call, fault.status ?? 400, { message: fault.error, code: 0 });
    }
    const limited = this.bucketHeaders(method, path);
    if (limited?.retryAfterMs !== undefined) {
      this.rateLimited.push(call);
      const retryAfter = limited.retryAfterMs / 1000;
      return this.json(res, call, 429, { message: 'You are being rate limited.', retry_after: retryAfter, global: false }, {
        ...limited.headers,
        'retry-after': String(Math.ceil(retryAfter)),
        'x-ratelimit-scope': 'user',
      });
    }
    const [status, answer] = this.route(method, path, body, req.headers.authorization, files);
    if (fault?.kind === 'drop' && fault.when === 'after') return void req.socket.destroy();
    this.json(res, call, status, answer, limited?.headers);
  }

  /** The edit bucket's headers for this request (and whether it is over the limit), when the bucket applies. */
  private bucketHeaders(method: string, path: string): { headers: Record<string, string>; retryAfterMs?: number } | undefined {
    const b = this.editBucket;
    const channel = method === 'PATCH' ? /^\/channels\/(\d+)\/messages\/\d+$/.exec(path)?.[1] : undefined;
    if (!b || !channel) return undefined;
    const now = b.clock();
    let w = this.buckets.get(channel);
    if (!w || now >= w.start + b.resetAfterMs) this.buckets.set(channel, (w = { start: now, used: 0 }));
    const over = w.used >= b.limit;
    if (!over) w.used++;
    const resetAfterMs = w.start + b.resetAfterMs - now;
    const headers = {
      'x-ratelimit-limit': String(b.limit),
      'x-ratelimit-remaining': String(b.limit - w.used),
      'x-ratelimit-reset-after': (resetAfterMs / 1000).toFixed(3),
      'x-ratelimit-reset': ((Date.now() + resetAfterMs) / 1000).toFixed(3),
      'x-ratelimit-bucket': `edit-${channel}`,
    };
    return over ? { headers, retryAfterMs: resetAfterMs } : { headers };
  }

  private json(res: ServerResponse, call: DiscordCall, status: number, body: unknown, headers: Record<string, string> = {}): void {
    call.status = status;
    if (status === 204) {
      res.writeHead(204, headers);
      return void res.end();
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private route(method: string, path: string, body: Record<string, unknown>, auth: string | undefined, files: FormPart[] = []): [number, unknown] {
    const attached = this.uploaded(files, body);
    if (typeof attached === 'string') return [400, { message: 'Invalid Form Body', code: 50035, errors: { files: { _errors: [{ code: 'BINARY_TYPE_INVALID', message: attached }] } } }];
    const botAuth = () => !this.opts.token || auth === `Bot ${this.opts.token}`;
    const unauthorized: [number, unknown] = [401, { message: '401: Unauthorized', code: 0 }];
    let m: RegExpExecArray | null;
    if (method === 'GET' && (path === '/gateway/bot' || path === '/gateway')) {
      if (path === '/gateway/bot' && !botAuth()) return unauthorized;
      return [200, { url: `ws://127.0.0.1:${this.port}/gateway`, shards: 1, session_start_limit: { total: 1000, remaining: 999, reset_after: 14_400_000, max_concurrency: 1 } }];
    }
    if (method === 'GET' && path === '/users/@me') return [200, { id: BOT_ID, username: 'headwatch', discriminator: '0', bot: true, avatar: null }];
    if (method === 'POST' && path === '/users/@me/channels') {
      if (!botAuth()) return unauthorized;
      const recipient = String(body['recipient_id'] ?? '');
      if (!/^\d+$/.test(recipient)) return [400, { message: 'Invalid Form Body', code: 50035 }];
      let ch = this.dmChannels.get(recipient);
      if (!ch) this.dmChannels.set(recipient, (ch = snowflake()));
      return [200, { id: ch, type: 1, last_message_id: null, recipients: [{ id: recipient, username: `user${recipient}`, discriminator: '0', avatar: null }] }];
    }
    if (method === 'GET' && path === '/applications/@me') return [200, { id: APP_ID, name: 'headwatch', flags: 0 }];

    if ((m = /^\/applications\/(\d+)(?:\/guilds\/(\d+))?\/commands$/.exec(path)) && method === 'PUT') {
      if (!botAuth()) return unauthorized;
      const list = (body as unknown as Record<string, unknown>[]).map((c) => ({
        id: snowflake(),
        application_id: m![1],
        version: snowflake(),
        type: 1,
        ...(m![2] ? { guild_id: m![2] } : {}),
        default_member_permissions: null,
        dm_permission: true,
        nsfw: false,
        ...c,
      }));
      this.commands.set(m[2] ?? 'global', list);
      return [200, list];
    }
    if ((m = /^\/channels\/(\d+)\/messages$/.exec(path)) && method === 'POST') {
      if (!botAuth()) return unauthorized;
      const ch = m[1]!;
      if (!this.knownChannel(ch)) return [404, { message: 'Unknown Channel', code: 10003 }];
      const nonce = body['nonce'] as string | undefined;
      if (nonce && body['enforce_nonce']) {
        const dup = this.messages.find((x) => x.nonce === nonce && x.channel_id === ch);
        if (dup) return [200, this.toApi(dup)];
      }
      const msg = this.newMessage(ch, body, { ...(nonce ? { nonce } : {}), ...(this.threads.has(ch) ? { thread_parent: this.threads.get(ch)! } : {}), attachments: attached });
      this.messages.push(msg);
      return [200, this.toApi(msg)];
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)\/threads$/.exec(path)) && method === 'POST') {
      if (!botAuth()) return unauthorized;
      const parent = this.messages.find((x) => x.id === m![2] && x.channel_id === m![1]);
      if (!parent) return [404, { message: 'Unknown Message', code: 10008 }];
      if (this.threads.has(parent.id)) return [400, { message: 'A thread has already been created for this message', code: 160004 }];
      this.threads.set(parent.id, parent.channel_id);
      return [201, { id: parent.id, type: 11, guild_id: GUILD_ID, parent_id: parent.channel_id, name: body['name'], owner_id: BOT_ID, thread_metadata: { archived: false, auto_archive_duration: body['auto_archive_duration'] ?? 1440, locked: false }, message_count: 0, member_count: 1 }];
    }
    if ((m = /^\/channels\/(\d+)\/messages\/(\d+)$/.exec(path))) {
      if (!botAuth()) return unauthorized;
      const msg = this.messages.find((x) => x.id === m![2] && x.channel_id === m![1]);
      if (!msg) return [404, { message: 'Unknown Message', code: 10008 }];
      if (method === 'GET') return [200, this.toApi(msg)];
      if (method === 'PATCH') {
        this.edit(msg, body, attached);
        return [200, this.toApi(msg)];
      }
      if (method === 'DELETE') {
        this.messages.splice(this.messages.indexOf(msg), 1);
        return [204, null];
      }
    }
    if ((m = /^\/interactions\/(\d+)\/([^/]+)\/callback$/.exec(path)) && method === 'POST') {
      const it = this.interactions.get(m[1]!);
      if (!it || it.token !== m[2]) return [404, { message: 'Unknown interaction', code: 10062 }];
      if (this.callbacksFor(m[1]!).length > 0) return [400, { message: 'Interaction has already been acknowledged.', code: 40060 }];
      const type = Number(body['type']);
      const data = (body['data'] as Record<string, unknown>) ?? {};
      this.callbacks.push({ interactionId: m[1]!, type, data });
      if (type === 4 || type === 5) {
        const msg = this.newMessage(it.channelId, { ...data, flags: Number(data['flags'] ?? 0) | (type === 5 ? 128 : 0) }, { interaction_id: m[1]!, webhook_id: APP_ID });
        it.original = msg;
        if ((msg.flags & 64) === 0) this.messages.push(msg);
      } else if (type === 7 && it.message) {
        this.edit(it.message, data);
        it.original = it.message;
      } else if (type === 6 && it.message) it.original = it.message;
      return [204, null];
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)\/messages\/@original$/.exec(path))) {
      const it = [...this.interactions.values()].find((x) => x.token === m![2]);
      if (!it?.original) return [404, { message: 'Unknown Message', code: 10008 }];
      if (method === 'PATCH') this.edit(it.original, body, attached);
      if (method === 'DELETE') return [204, null];
      return [200, this.toApi(it.original)];
    }
    if ((m = /^\/webhooks\/(\d+)\/([^/]+)$/.exec(path)) && method === 'POST') {
      const it = [...this.interactions.values()].find((x) => x.token === m![2]);
      if (!it) return [404, { message: 'Unknown Webhook', code: 10015 }];
      const msg = this.newMessage(it.channelId, body, { webhook_id: APP_ID });
      this.followUps.push(msg);
      if ((msg.flags & 64) === 0) this.messages.push(msg);
      return [200, this.toApi(msg)];
    }
    if ((m = /^\/channels\/(\d+)\/typing$/.exec(path)) && method === 'POST') return [204, null];
    return [404, { message: '404: Not Found', code: 0 }];
  }
}
