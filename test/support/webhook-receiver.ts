import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { WebhookAlert } from '../../src/destinations/webhook.js';

/** One alert as the webhook notifier sends it (its wire type), plus anything a later version adds. */
export type WebhookAlertBody = WebhookAlert & Record<string, unknown>;

export interface ReceivedPost {
  /** Raw body, exactly as received (the signature covers these bytes). */
  body: string;
  json: { alerts?: WebhookAlertBody[]; [k: string]: unknown } | undefined;
  headers: Record<string, string | string[] | undefined>;
  /** Whether `X-Headwatch-Signature` matched the shared secret (false when absent or no secret is set). */
  signatureValid: boolean;
  /** Why the signature was refused, for assertion messages. */
  signatureProblem?: string;
  receivedAt: number;
}

export interface ReceivedAlert extends WebhookAlertBody {
  signatureValid: boolean;
}

/** Maximum age of a signed timestamp accepted, as a real receiver would enforce against replays. */
const TOLERANCE_SECONDS = 300;

/**
 * A real HTTP server on 127.0.0.1 (random port) standing in for a webhook consumer. It records every POST and
 * checks `X-Headwatch-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` the way a consumer should:
 * constant-time compare, timestamp within five minutes.
 */
export class WebhookReceiver {
  readonly posts: ReceivedPost[] = [];
  /** Status codes to answer with, in order; 200 once exhausted. */
  readonly replies: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly secret: string | undefined,
  ) {}

  static async start(opts: { secret?: string; path?: string } = {}): Promise<WebhookReceiver> {
    let receiver: WebhookReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.method !== 'POST') {
          res.writeHead(405).end();
          return;
        }
        receiver!.record(Buffer.concat(chunks).toString('utf8'), req.headers);
        res.writeHead(receiver!.replies.shift() ?? 200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${opts.path ?? '/hook'}`, opts.secret);
    return receiver;
  }

  /** Every alert of every POST, flattened, each marked with its POST's signature validity. */
  alerts(): ReceivedAlert[] {
    return this.posts.flatMap((p) => (p.json?.alerts ?? []).map((a) => ({ ...a, signatureValid: p.signatureValid })));
  }

  /** Resolves with the first alert matching `pred`, polling the recorded posts. */
  async waitForAlert(what: string, pred: (a: ReceivedAlert) => boolean, timeoutMs = 20_000): Promise<ReceivedAlert> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.alerts().find(pred);
      if (hit) return hit;
      if (Date.now() > end) {
        const seen = this.alerts().map((a) => `${a.status} ${a.kind} ${a.subject}`);
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; received: ${seen.length ? seen.join('; ') : 'nothing'}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private record(body: string, headers: ReceivedPost['headers']): void {
    let json: ReceivedPost['json'];
    try {
      json = JSON.parse(body) as ReceivedPost['json'];
    } catch {
      json = undefined;
    }
    const check = this.verify(body, headers['x-headwatch-signature']);
    this.posts.push({ body, json, headers, signatureValid: check === undefined, signatureProblem: check, receivedAt: Date.now() });
  }

  /** Undefined when valid, else what is wrong. */
  private verify(body: string, header: string | string[] | undefined): string | undefined {
    if (!this.secret) return 'receiver has no secret';
    if (typeof header !== 'string') return 'no X-Headwatch-Signature header';
    const parts = new Map(
      header.split(',').map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i).trim(), kv.slice(i + 1).trim()] as const;
      }),
    );
    const t = parts.get('t');
    const v1 = parts.get('v1');
    if (!t || !/^\d+$/.test(t) || !v1 || !/^[0-9a-f]{64}$/.test(v1)) return `malformed header "${header}"`;
    if (Math.abs(Date.now() / 1000 - Number(t)) > TOLERANCE_SECONDS) return `timestamp ${t} outside ±${TOLERANCE_SECONDS} s`;
    const expected = createHmac('sha256', this.secret).update(`${t}.${body}`).digest();
    return timingSafeEqual(expected, Buffer.from(v1, 'hex')) ? undefined : 'HMAC does not match';
  }
}
