import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An event as a Tailscale webhook consumer reads it (tailscale/tailscale docs/webhooks/example.go `event`). */
export interface ConsumerEvent {
  timestamp: string;
  version: number;
  type: string;
  tailnet: string;
  message: string;
  data: Record<string, string>;
}

export interface ReceivedBatch {
  events: ConsumerEvent[];
  verified: boolean;
  problem?: string;
}

/**
 * A receiver written from Tailscale's documented consumer code, not from headwatch's: it parses
 * `Tailscale-Webhook-Signature` into `t` and any number of `v1` signatures (ignoring unknown parts), refuses
 * timestamps older than 5 minutes, computes HMAC-SHA256(secret, "<t>" + "." + body) as hex and accepts when
 * any `v1` matches in constant time; only then is the body decoded as a JSON array of events.
 */
export class TailscaleStyleReceiver {
  readonly batches: ReceivedBatch[] = [];
  /** Status codes to answer with, in order (with Retry-After: 1 for 429); 200 once exhausted. */
  readonly replies: number[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly secret: string,
  ) {}

  static async start(secret: string): Promise<TailscaleStyleReceiver> {
    let self: TailscaleStyleReceiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const status = self!.replies.shift() ?? 200;
        if (status === 200) self!.accept(Buffer.concat(chunks), req.headers['tailscale-webhook-signature']);
        res.writeHead(status, status === 429 ? { 'retry-after': '1' } : {}).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    self = new TailscaleStyleReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`, secret);
    return self;
  }

  verifiedEvents(): ConsumerEvent[] {
    return this.batches.filter((b) => b.verified).flatMap((b) => b.events);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(body: Buffer, header: string | string[] | undefined): void {
    const problem = this.verify(body, typeof header === 'string' ? header : '');
    this.batches.push({ events: problem ? [] : (JSON.parse(body.toString('utf8')) as ConsumerEvent[]), verified: !problem, ...(problem ? { problem } : {}) });
  }

  private verify(body: Buffer, header: string): string | undefined {
    if (header === '') return 'request has no signature';
    let timestamp: number | undefined;
    const signatures: string[] = [];
    for (const pair of header.split(',')) {
      const parts = pair.split('=');
      if (parts.length !== 2) return 'webhook has no signature';
      if (parts[0] === 't') {
        if (!/^-?\d+$/.test(parts[1]!)) return 'webhook has an invalid signature';
        timestamp = Number(parts[1]);
      } else if (parts[0] === 'v1') signatures.push(parts[1]!);
    }
    if (signatures.length === 0 || timestamp === undefined) return 'webhook has no signature';
    if (timestamp * 1000 < Date.now() - 5 * 60_000) return 'invalid header: timestamp older than 5 minutes';
    const want = createHmac('sha256', this.secret).update(String(timestamp)).update('.').update(body).digest('hex');
    const match = signatures.some((s) => s.length === want.length && timingSafeEqual(Buffer.from(s), Buffer.from(want)));
    return match ? undefined : `signature does not match: want ${want}`;
  }
}
