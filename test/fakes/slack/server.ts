import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { Faults, type FaultRule } from '../faults.js';
import { parseMultipart, pngInfo } from '../multipart.js';

/**
 * A protocol-faithful local Slack for the real @slack/bolt client: Web API (`POST /api/<method>`, form or
 * JSON, Bearer token), Socket Mode (`apps.connections.open` → websocket with hello, pings, envelopes, acks),
 * `response_url` endpoints, and helpers to send signed HTTP-mode requests. It records every call and keeps
 * the channel history (posts, edits, thread replies, ephemerals) so tests assert on what users would see.
 */

export interface SlackMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  thread_ts?: string;
  metadata?: { event_type: string; event_payload: Record<string, unknown> };
  /** Files shared with the message (files.completeUploadExternal). */
  files?: SlackFile[];
  /** How many times chat.update changed it. */
  edits: number;
  /** Every version, oldest first. */
  history: { text: string; blocks: unknown[] }[];
}

/** A file as the fake keeps it: what was announced, what arrived, where it was shared. */
export interface SlackFile {
  id: string;
  filename: string;
  /** `length` announced to files.getUploadURLExternal. */
  length: number;
  altText?: string;
  title?: string;
  /** Bytes received at the upload URL (undefined until then). */
  bytes?: Buffer;
  /** PNG dimensions when the bytes are a PNG. */
  png?: { width: number; height: number };
  channel?: string;
  threadTs?: string;
}

export interface SlackCall {
  method: string;
  token: string | undefined;
  args: Record<string, unknown>;
  status: number;
  fault?: string;
}

export interface ResponseUrlPost {
  id: string;
  body: Record<string, unknown>;
}

export const TEAM_ID = 'T0HEADW';
export const BOT_USER = 'U0BOT';
export const BOT_ID = 'B0BOT';
export const APP_ID = 'A0HEADW';

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages: SlackMessage[] = [];
  readonly ephemerals: { channel: string; user: string; text: string; blocks: unknown[] }[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly faults = new Faults();
  /**
   * Slack's Tier 3 limit for chat.update, when set: at most `perMinute` calls in any minute of `clock` for the
   * workspace; one over is answered 429 with Retry-After (as Slack does) and recorded in `rateLimited`.
   */
  updateTier: { perMinute: number; clock: () => number } | undefined;
  /** chat.update calls answered 429 by the tier limit (not injected faults). */
  readonly rateLimited: SlackCall[] = [];
  private readonly updateTimes: number[] = [];
  /** Every file announced with files.getUploadURLExternal, by id. */
  readonly files = new Map<string, SlackFile>();
  /** Uploads to an upload URL, with the check's verdict (accepted or why not). */
  readonly uploads: { fileId: string; status: number; problem?: string }[] = [];
  /** Acks received for envelopes (envelope_id → payload). */
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private server!: Server;
  private wss!: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly conns = new Set<Socket>();
  private tsCounter = 0;
  private pingTimer: NodeJS.Timeout | undefined;
  port = 0;

  constructor(private readonly opts: { botToken?: string; appToken?: string; pingMs?: number } = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  get apiUrl(): string {
    return `${this.url}/api/`;
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
      if (!req.url?.startsWith('/link/')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws));
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
    this.pingTimer = setInterval(() => {
      for (const ws of this.sockets) ws.ping();
    }, this.opts.pingMs ?? 5000);
  }

  async stop(): Promise<void> {
    if (this.pingTimer) clearInterval(this.pingTimer);
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    for (const c of this.conns) c.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  // --- failure controls ---------------------------------------------------------------------------------

  /** e.g. `fail({ match: 'chat.postMessage', kind: 'ratelimit', retryAfterSec: 2, times: 3 })`. */
  fail(rule: FaultRule): void {
    this.faults.add(rule);
  }

  heal(): void {
    this.faults.clear();
  }

  /** Asks Socket Mode clients to reconnect (Slack's `disconnect` message). */
  requestReconnect(): void {
    for (const ws of this.sockets) ws.send(JSON.stringify({ type: 'disconnect', reason: 'refresh_requested', debug_info: { host: 'fake' } }));
  }

  /** Cuts every Socket Mode connection without a close handshake. */
  dropSockets(): void {
    for (const ws of this.sockets) ws.terminate();
  }

  get socketCount(): number {
    return this.sockets.size;
  }

  // --- readers ------------------------------------------------------------------------------------------

  /** Top-level messages of a channel (not thread replies), oldest first. */
  channelMessages(channel?: string): SlackMessage[] {
    return this.messages.filter((m) => !m.thread_ts && (channel === undefined || m.channel === channel));
  }

  threadReplies(parentTs: string): SlackMessage[] {
    return this.messages.filter((m) => m.thread_ts === parentTs);
  }

  callsTo(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method && c.status === 200 && !c.fault);
  }

  // --- interaction injection ----------------------------------------------------------------------------

  slashCommandPayload(p: { command?: string; text: string; userId?: string; userName?: string; channelId?: string }): Record<string, string> {
    const id = randomUUID();
    return {
      token: 'legacy-verification-token',
      team_id: TEAM_ID,
      team_domain: 'headwatch',
      channel_id: p.channelId ?? 'C0OPS',
      channel_name: 'ops',
      user_id: p.userId ?? 'U0ALICE',
      user_name: p.userName ?? 'alice',
      command: p.command ?? '/headscale',
      text: p.text,
      api_app_id: APP_ID,
      is_enterprise_install: 'false',
      response_url: `${this.url}/response/${id}`,
      trigger_id: `${Date.now()}.trigger`,
    };
  }

  buttonPayload(p: { actionId: string; messageTs: string; channelId?: string; userId?: string; userName?: string; value?: string; ephemeral?: boolean }): Record<string, unknown> {
    const channel = p.channelId ?? this.messages.find((m) => m.ts === p.messageTs)?.channel ?? 'C0OPS';
    const msg = this.messages.find((m) => m.ts === p.messageTs);
    return {
      type: 'block_actions',
      team: { id: TEAM_ID, domain: 'headwatch' },
      user: { id: p.userId ?? 'U0ALICE', username: p.userName ?? 'alice', name: p.userName ?? 'alice', team_id: TEAM_ID },
      api_app_id: APP_ID,
      token: 'legacy-verification-token',
      trigger_id: `${Date.now()}.trigger`,
      container: { type: 'message', message_ts: p.messageTs, channel_id: channel, is_ephemeral: p.ephemeral ?? false },
      channel: { id: channel, name: 'ops' },
      is_enterprise_install: false,
      enterprise: null,
      message: { type: 'message', ts: p.messageTs, text: msg?.text ?? '', blocks: msg?.blocks ?? [], user: BOT_USER, bot_id: BOT_ID, team: TEAM_ID },
      state: { values: {} },
      response_url: `${this.url}/response/${randomUUID()}`,
      actions: [
        {
          type: 'button',
          action_id: p.actionId,
          block_id: 'b1',
          text: { type: 'plain_text', text: 'button' },
          ...(p.value ? { value: p.value } : {}),
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
  }

  /** Sends an envelope over Socket Mode and resolves with the client's ack payload. */
  async pushEnvelope(type: 'slash_commands' | 'interactive' | 'events_api', payload: unknown, timeoutMs = 5000): Promise<unknown> {
    const ws = [...this.sockets][0];
    if (!ws) throw new Error('no Socket Mode client is connected');
    const envelope_id = randomUUID();
    const acked = new Promise<unknown>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`envelope ${envelope_id} not acknowledged`)), timeoutMs);
      this.acks.set(envelope_id, (p) => {
        clearTimeout(t);
        resolve(p);
      });
    });
    ws.send(JSON.stringify({ envelope_id, type, payload, accepts_response_payload: type !== 'events_api' }));
    return acked;
  }

  /** A slash command over Socket Mode; resolves with the ack payload (e.g. an ephemeral placeholder). */
  slashCommand(p: Parameters<FakeSlack['slashCommandPayload']>[0]): Promise<unknown> {
    return this.pushEnvelope('slash_commands', this.slashCommandPayload(p));
  }

  /** A button click over Socket Mode on a message the bot posted. */
  clickButton(p: Parameters<FakeSlack['buttonPayload']>[0]): Promise<unknown> {
    return this.pushEnvelope('interactive', this.buttonPayload(p));
  }

  /** Waits until `check()` is true (polling the recorded traffic). */
  async waitFor<T>(check: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v) return v;
      if (Date.now() > until) throw new Error('timed out waiting for the fake Slack');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  // --- server -------------------------------------------------------------------------------------------

  private nextTs(): string {
    this.tsCounter++;
    return `${Math.floor(Date.now() / 1000)}.${String(this.tsCounter).padStart(6, '0')}`;
  }

  private onSocket(ws: WebSocket): void {
    this.sockets.add(ws);
    ws.on('close', () => this.sockets.delete(ws));
    ws.on('message', (data, binary) => {
      if (binary) return;
      try {
        const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
        if (msg.envelope_id) this.acks.get(msg.envelope_id)?.(msg.payload ?? {});
      } catch {
        /* ignore */
      }
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: this.sockets.size, debug_info: { host: 'fake' }, connection_info: { app_id: APP_ID } }));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = (req.url ?? '').split('?')[0] ?? '';
    if (path.startsWith('/upload/v1/')) return this.receiveUpload(path.slice('/upload/v1/'.length), Buffer.concat(chunks), req, res);
    const raw = Buffer.concat(chunks).toString('utf8');
    if (path.startsWith('/response/')) {
      this.responses.push({ id: path.slice('/response/'.length), body: JSON.parse(raw || '{}') as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'text/plain' });
      return void res.end('ok');
    }
    if (!path.startsWith('/api/')) {
      res.writeHead(404);
      return void res.end();
    }
    const method = path.slice('/api/'.length);
    const ctype = req.headers['content-type'] ?? '';
    const args: Record<string, unknown> = {};
    if (ctype.includes('application/json')) Object.assign(args, JSON.parse(raw || '{}'));
    else for (const [k, v] of new URLSearchParams(raw)) args[k] = v;
    for (const k of ['blocks', 'attachments', 'metadata', 'view', 'files']) {
      if (typeof args[k] === 'string') {
        try {
          args[k] = JSON.parse(args[k] as string);
        } catch {
          /* leave as text */
        }
      }
    }
    const auth = req.headers.authorization?.replace(/^Bearer /, '');
    const call: SlackCall = { method, token: auth, args, status: 200 };
    this.calls.push(call);

    const fault = this.faults.take(method);
    if (fault) {
      call.fault = fault.kind;
      if (fault.kind === 'drop' && fault.when === 'before') return void req.socket.destroy();
      if (fault.kind === 'status') {
        call.status = fault.status;
        res.writeHead(fault.status, { 'content-type': 'text/html' });
        return void res.end('<html>upstream error</html>');
      }
      if (fault.kind === 'ratelimit') {
        call.status = 429;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(fault.retryAfterSec) });
        return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      }
      if (fault.kind === 'error') return this.json(res, { ok: false, error: fault.error }, fault.status ?? 200);
    }
    if (method === 'chat.update' && this.updateTier) {
      const now = this.updateTier.clock();
      const recent = this.updateTimes.filter((t) => t > now - 60_000);
      if (recent.length >= this.updateTier.perMinute) {
        call.status = 429;
        this.rateLimited.push(call);
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(Math.ceil((recent[0]! + 60_000 - now) / 1000)) });
        return void res.end(JSON.stringify({ ok: false, error: 'ratelimited' }));
      }
      this.updateTimes.push(now);
    }
    const answer = this.answer(method, auth, args);
    if (fault?.kind === 'drop' && fault.when === 'after') return void req.socket.destroy();
    this.json(res, answer);
  }

  /**
   * Step 2 of Slack's external upload: the bytes are POSTed to the upload URL (the Web API client sends a
   * multipart form whose file part carries them; a raw body is accepted as well, as Slack does). The fake
   * insists on what the issue's users would notice: the file is a PNG and its size is the `length` announced.
   */
  private receiveUpload(fileId: string, body: Buffer, req: IncomingMessage, res: ServerResponse): void {
    const file = this.files.get(fileId);
    const reply = (status: number, problem?: string) => {
      this.uploads.push({ fileId, status, ...(problem ? { problem } : {}) });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? `OK - ${file?.bytes?.length ?? 0}` : problem);
    };
    if (!file) return reply(404, 'unknown upload url');
    let bytes = body;
    const ctype = req.headers['content-type'] ?? '';
    if (ctype.includes('multipart/form-data')) {
      try {
        const part = parseMultipart(body, ctype).find((p) => p.filename !== undefined);
        if (!part) return reply(400, 'multipart body without a file part');
        bytes = part.data;
      } catch (err) {
        return reply(400, (err as Error).message);
      }
    }
    if (bytes.length !== file.length) return reply(400, `received ${bytes.length} bytes, files.getUploadURLExternal announced ${file.length}`);
    const png = pngInfo(bytes);
    if (file.filename.endsWith('.png') && !png) return reply(400, 'file named .png is not a PNG');
    file.bytes = bytes;
    if (png) file.png = png;
    reply(200);
  }

  /** Step 3: share uploaded files into a channel or thread; each share shows as a message with the files. */
  private completeUpload(a: Record<string, unknown>): Record<string, unknown> {
    const list = Array.isArray(a['files']) ? (a['files'] as { id?: string; title?: string }[]) : undefined;
    if (!list || list.length === 0) return { ok: false, error: 'invalid_arguments' };
    const files: SlackFile[] = [];
    for (const f of list) {
      const file = f.id ? this.files.get(f.id) : undefined;
      if (!file) return { ok: false, error: 'file_not_found' };
      if (!file.bytes) return { ok: false, error: 'file_upload_not_completed' };
      files.push(file);
    }
    const channel = a['channel_id'] ? String(a['channel_id']) : undefined;
    const threadTs = a['thread_ts'] ? String(a['thread_ts']) : undefined;
    if (threadTs && !this.messages.some((m) => m.ts === threadTs && m.channel === channel)) return { ok: false, error: 'thread_not_found' };
    files.forEach((file, i) => {
      file.title = list[i]!.title ?? file.filename;
      if (channel) file.channel = channel;
      if (threadTs) file.threadTs = threadTs;
    });
    if (channel) {
      const ts = this.nextTs();
      const text = String(a['initial_comment'] ?? '');
      this.messages.push({ channel, ts, text, blocks: [], files, edits: 0, history: [{ text, blocks: [] }], ...(threadTs ? { thread_ts: threadTs } : {}) });
    }
    return { ok: true, files: files.map((f) => ({ id: f.id, name: f.filename, title: f.title, mimetype: f.png ? 'image/png' : 'application/octet-stream', size: f.length, ...(f.png ? { original_w: f.png.width, original_h: f.png.height } : {}) })) };
  }

  private json(res: ServerResponse, body: unknown, status = 200): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  }

  private answer(method: string, token: string | undefined, a: Record<string, unknown>): Record<string, unknown> {
    const isApp = method === 'apps.connections.open';
    const expected = isApp ? this.opts.appToken : this.opts.botToken;
    if (!token) return { ok: false, error: 'not_authed' };
    if (expected && token !== expected) return { ok: false, error: 'invalid_auth' };
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://headwatch.slack.com/', team: 'headwatch', user: 'headwatch', team_id: TEAM_ID, user_id: BOT_USER, bot_id: BOT_ID, is_enterprise_install: false };
      case 'apps.connections.open':
        return { ok: true, url: `ws://127.0.0.1:${this.port}/link/?ticket=${randomUUID()}` };
      case 'chat.postMessage': {
        const channel = String(a['channel'] ?? '');
        if (!channel) return { ok: false, error: 'channel_not_found' };
        if (a['thread_ts'] && !this.messages.some((m) => m.ts === a['thread_ts'] && m.channel === channel)) return { ok: false, error: 'thread_not_found' };
        const msg: SlackMessage = {
          channel,
          ts: this.nextTs(),
          text: String(a['text'] ?? ''),
          blocks: (a['blocks'] as unknown[]) ?? [],
          ...(a['thread_ts'] ? { thread_ts: String(a['thread_ts']) } : {}),
          ...(a['metadata'] ? { metadata: a['metadata'] as SlackMessage['metadata'] } : {}),
          edits: 0,
          history: [],
        };
        msg.history.push({ text: msg.text, blocks: msg.blocks });
        this.messages.push(msg);
        return { ok: true, channel, ts: msg.ts, message: { type: 'message', text: msg.text, blocks: msg.blocks, ts: msg.ts, bot_id: BOT_ID, user: BOT_USER } };
      }
      case 'chat.update': {
        const msg = this.messages.find((m) => m.channel === a['channel'] && m.ts === a['ts']);
        if (!msg) return { ok: false, error: 'message_not_found' };
        msg.text = String(a['text'] ?? msg.text);
        if (a['blocks']) msg.blocks = a['blocks'] as unknown[];
        msg.edits++;
        msg.history.push({ text: msg.text, blocks: msg.blocks });
        return { ok: true, channel: msg.channel, ts: msg.ts, text: msg.text, message: { text: msg.text, blocks: msg.blocks } };
      }
      case 'chat.postEphemeral':
        this.ephemerals.push({ channel: String(a['channel']), user: String(a['user']), text: String(a['text'] ?? ''), blocks: (a['blocks'] as unknown[]) ?? [] });
        return { ok: true, message_ts: this.nextTs() };
      case 'conversations.history':
      case 'conversations.replies': {
        const oldest = Number(a['oldest'] ?? 0);
        const list = this.messages.filter(
          (m) =>
            m.channel === a['channel'] &&
            Number(m.ts) >= oldest &&
            (method === 'conversations.history' ? !m.thread_ts : m.thread_ts === a['ts'] || m.ts === a['ts']),
        );
        const withMeta = a['include_all_metadata'] === 'true' || a['include_all_metadata'] === true;
        return {
          ok: true,
          has_more: false,
          messages: list
            .slice()
            .reverse()
            .map((m) => ({ type: 'message', ts: m.ts, text: m.text, ...(m.thread_ts ? { thread_ts: m.thread_ts } : {}), ...(withMeta && m.metadata ? { metadata: m.metadata } : {}) })),
        };
      }
      case 'files.getUploadURLExternal': {
        const filename = String(a['filename'] ?? '');
        const length = Number(a['length']);
        if (!filename || !Number.isInteger(length) || length <= 0) return { ok: false, error: 'invalid_arguments' };
        const id = `F${String(++this.tsCounter).padStart(8, '0')}`;
        const alt = a['alt_text'] ?? a['alt_txt'];
        this.files.set(id, { id, filename, length, ...(alt ? { altText: String(alt) } : {}) });
        return { ok: true, upload_url: `${this.url}/upload/v1/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal':
        return this.completeUpload(a);
      case 'files.upload':
        // Retired on 2025-11-12: apps must use the two-step external upload.
        return { ok: false, error: 'method_deprecated' };
      case 'views.open':
      case 'views.update':
      case 'views.publish':
        return { ok: true, view: { id: `V${this.tsCounter++}`, ...(a['view'] as object) } };
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

// --- HTTP mode: signed requests ---------------------------------------------------------------------------

export function slackSignature(secret: string, timestamp: number, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface SignedRequest {
  body: string;
  contentType: string;
  timestamp: number;
  signature: string;
}

/** Builds a request exactly as Slack signs it. Use `secret` wrong to forge, `timestamp` old to make it stale. */
export function signRequest(secret: string, form: Record<string, string>, timestamp = Math.floor(Date.now() / 1000)): SignedRequest {
  const body = new URLSearchParams(form).toString();
  return { body, contentType: 'application/x-www-form-urlencoded', timestamp, signature: slackSignature(secret, timestamp, body) };
}

/** POSTs a signed request (a slash command form, or `{ payload: JSON }` for interactions) to an HTTP-mode app. */
export async function postSigned(url: string, req: SignedRequest): Promise<{ status: number; body: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': req.contentType, 'x-slack-request-timestamp': String(req.timestamp), 'x-slack-signature': req.signature },
    body: req.body,
  });
  return { status: res.status, body: await res.text() };
}
