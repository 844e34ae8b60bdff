import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';

/**
 * Request authentication in front of Bolt's HTTP receiver: v0 signature (HMAC-SHA256 of the exact bytes),
 * timestamp within 5 minutes either way, and a replay cache — Bolt alone accepts the same signed request
 * again and again for five minutes. Failures answer 401 with an empty body and reach no handler.
 */
export const MAX_SKEW_MS = 5 * 60_000;

export type RejectReason = 'missing headers' | 'stale or future timestamp' | 'bad signature' | 'replayed';

export class SlackRequestGuard {
  /** signature → request timestamp (s); entries older than the skew window are pruned. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly signingSecret: string,
    private readonly clock: () => number = Date.now,
  ) {}

  check(rawBody: Buffer, headers: IncomingMessage['headers']): RejectReason | undefined {
    const sig = headers['x-slack-signature'];
    const tsRaw = headers['x-slack-request-timestamp'];
    if (typeof sig !== 'string' || typeof tsRaw !== 'string' || !/^\d+$/.test(tsRaw)) return 'missing headers';
    const ts = Number(tsRaw);
    const now = this.clock();
    if (Math.abs(now - ts * 1000) > MAX_SKEW_MS) return 'stale or future timestamp';
    const ok = isValidSlackRequest({
      signingSecret: this.signingSecret,
      body: rawBody.toString('utf8'),
      headers: { 'x-slack-signature': sig, 'x-slack-request-timestamp': ts },
      nowMilliseconds: now,
    });
    if (!ok) return 'bad signature';
    this.prune(now);
    if (this.seen.has(sig)) return 'replayed';
    this.seen.set(sig, ts);
    return undefined;
  }

  private prune(now: number): void {
    const oldest = (now - MAX_SKEW_MS) / 1000;
    for (const [sig, ts] of this.seen) {
      if (ts >= oldest) continue;
      this.seen.delete(sig);
    }
  }
}

export async function readBody(req: IncomingMessage, limit = 1_000_000): Promise<Buffer> {
  const pre = (req as IncomingMessage & { rawBody?: Buffer }).rawBody;
  if (Buffer.isBuffer(pre)) return pre;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) throw new Error('request body too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks);
}

export function reject(res: ServerResponse, status: number): void {
  res.writeHead(status);
  res.end();
}
