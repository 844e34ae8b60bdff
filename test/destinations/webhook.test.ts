import { DeliveryError } from '../../src/destinations/destination.js';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { Alert } from '../../src/alerts/model.js';
import { WebhookDestination } from '../../src/destinations/webhook.js';

const alert: Alert = {
  fingerprint: 'cpu-sustained:tailscale', kind: 'cpu-sustained', severity: 'warning', subject: 'tailscale', summary: 'CPU 97%',
  evidence: ['97%'], labels: { container: 'tailscale' }, status: 'firing', startsAt: '2026-11-26T10:00:00.000Z', updatedAt: '2026-11-26T10:00:00.000Z', endsAt: null, occurrences: 1,
};

let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

function receiver(status: number, headers: Record<string, string> = {}) {
  const got: { body: string; sig?: string }[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ body, sig: req.headers['x-headwatch-signature'] as string | undefined });
      res.writeHead(status, headers).end();
    });
  });
  return new Promise<{ url: string; got: typeof got }>((r) => server!.listen(0, '127.0.0.1', () => r({ url: `http://127.0.0.1:${(server!.address() as { port: number }).port}/hook`, got })));
}

describe('WebhookDestination', () => {
  it('posts the alert body with a verifiable HMAC signature', async () => {
    const { url, got } = await receiver(204);
    await new WebhookDestination({ url, secret: 's3cret', clock: () => 1_800_000_000_000 }).send([alert]);
    expect(got).toHaveLength(1);
    const body = JSON.parse(got[0]!.body);
    expect(body.alerts[0]).toMatchObject({ status: 'firing', fingerprint: 'cpu-sustained:tailscale', kind: 'cpu-sustained', severity: 'warning', subject: 'tailscale', summary: 'CPU 97%', startsAt: alert.startsAt, endsAt: null, evidence: ['97%'] });
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(got[0]!.sig ?? '');
    expect(m?.[1]).toBe('1800000000');
    expect(m?.[2]).toBe(createHmac('sha256', 's3cret').update(`${m?.[1]}.${got[0]!.body}`).digest('hex'));
  });

  it('sends no signature header without a secret', async () => {
    const { url, got } = await receiver(200);
    await new WebhookDestination({ url }).send([alert]);
    expect(got[0]!.sig).toBeUndefined();
  });

  it('reports 429 as retryable with the Retry-After delay, 400 as final, and a dead port as retryable', async () => {
    const { url } = await receiver(429, { 'retry-after': '7' });
    const e1 = await new WebhookDestination({ url }).send([alert]).catch((e) => e);
    expect(e1).toBeInstanceOf(DeliveryError);
    expect(e1).toMatchObject({ retryable: true, retryAfterMs: 7000 });
    await new Promise<void>((r) => server!.close(() => r()));
    const { url: url400 } = await receiver(400);
    expect(await new WebhookDestination({ url: url400 }).send([alert]).catch((e) => e)).toMatchObject({ retryable: false });
    const dead = await new WebhookDestination({ url: 'http://127.0.0.1:1/x', timeoutMs: 1000 }).send([alert]).catch((e) => e);
    expect(dead).toMatchObject({ retryable: true });
    expect(dead.message).toContain('unreachable');
  });
});

describe('WebhookDestination.notify: one attempt, and whether another can help', () => {
  it('answers ok, retry with Retry-After on 429, final on 400, and refuses chat messages', async () => {
    const { url } = await receiver(204);
    expect(await new WebhookDestination({ url }).notify({ op: 'alerts', alerts: [alert] })).toEqual({ ok: true });
    await new Promise<void>((r) => server!.close(() => r()));
    const { url: url429 } = await receiver(429, { 'retry-after': '3' });
    expect(await new WebhookDestination({ url: url429 }).notify({ op: 'alerts', alerts: [alert] })).toMatchObject({ ok: false, retry: true, retryAfterMs: 3000 });
    await new Promise<void>((r) => server!.close(() => r()));
    const { url: url400 } = await receiver(400);
    const hook = new WebhookDestination({ url: url400 });
    expect(await hook.notify({ op: 'alerts', alerts: [alert] })).toMatchObject({ ok: false, retry: false, error: expect.stringContaining('HTTP 400') });
    const edit = { op: 'edit' as const, ref: { platform: 'slack' as const, channelId: 'C1', messageId: '1.2' }, message: { fallback: 'x', tone: 'info' as const, blocks: [] } };
    expect(await hook.notify(edit)).toMatchObject({ ok: false, retry: false, error: 'webhook cannot take chat messages' });
  });
});
