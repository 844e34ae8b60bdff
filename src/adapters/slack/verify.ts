import type { IncomingMessage, ServerResponse } from 'node:http';
import { isValidSlackRequest } from '@slack/bolt';
import { MemorySignatures, type SeenSignatures } from '../../store/request-signatures.js';

/**
 * Request authentication in front of Bolt's HTTP receiver: v0 signature (HMAC-SHA256 of the exact bytes),
 * timestamp within 5 minutes either way, and a replay guard — Bolt alone accepts the same signed request
 * again and again for five minutes. Seen signatures are kept (in SQLite, when given a store) until the window
 * ends, so a replay is refused after a restart too. Failures answer 401 with an empty body and reach no handler.
 */
export const MAX_SKEW_MS = 5 * 60_000;

export type RejectReason = 'missing headers' | 'stale or future timestamp' | 'bad signature' | 'replayed';

export class SlackRequestGuard {
  constructor(
    private readonly signingSecret: string,
    private readonly clock: () => number = Date.now,
    private readonly seen: SeenSignatures = new MemorySignatures(),
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
    // Accepted until ts + 5 min at the latest, so it must be remembered that long.
    if (!this.seen.firstSeen(sig, ts * 1000 + MAX_SKEW_MS, now)) return 'replayed';
    return undefined;
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
