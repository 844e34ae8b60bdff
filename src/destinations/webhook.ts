import { createHmac } from 'node:crypto';
import { request } from 'undici';
import { adviceFor } from '../alerts/kinds.js';
import type { Alert } from '../alerts/model.js';
import { AlertBatchDestination, DeliveryError, type IncidentLookup } from './destination.js';

export interface WebhookOptions {
  url: string;
  secret?: string;
  /** HEADWATCH_COMMAND, for the slash command in an alert's advice. */
  commandName?: string;
  /** Adds the incident object to member alerts. */
  incidentOf?: IncidentLookup;
  timeoutMs?: number;
  clock?: () => number;
}

/** Wire form of one alert in the webhook body. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  fingerprint: string;
  kind: string;
  severity: string;
  subject: string;
  summary: string;
  startsAt: string;
  endsAt: string | null;
  evidence: string[];
  labels: Record<string, string>;
  /** Next step for a firing alert, and the slash command that helps when there is one. */
  advice?: string;
  command?: string;
  /** The incident this alert is a member of: id, subject, status, ranked causes with evidence, members. */
  incident?: Record<string, unknown>;
}

export function signatureHeader(secret: string, unixSeconds: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * JSON webhook: POSTs `{version, source, alerts:[…]}`. With a secret, `X-Headwatch-Signature: t=<unix>,v1=<hex>`
 * is the HMAC-SHA256 of "<t>.<body>" (the Stripe scheme: the timestamp lets receivers refuse replays).
 */
export class WebhookDestination extends AlertBatchDestination {
  readonly name = 'webhook';
  private readonly clock: () => number;

  constructor(private readonly opts: WebhookOptions) {
    super();
    this.clock = opts.clock ?? Date.now;
  }

  async send(alerts: Alert[], opts: { deliveryId?: string } = {}): Promise<void> {
    const body = JSON.stringify({ version: 1, source: 'headwatch', alerts: alerts.map((a) => withIncident(toWire(a, this.opts.commandName), this.opts.incidentOf)) });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'headwatch' };
    if (opts.deliveryId) headers['x-headwatch-delivery'] = opts.deliveryId;
    if (this.opts.secret) headers['x-headwatch-signature'] = signatureHeader(this.opts.secret, Math.floor(this.clock() / 1000), body);
    let res;
    try {
      res = await request(this.opts.url, {
        method: 'POST',
        body,
        headers,
        headersTimeout: this.opts.timeoutMs ?? 10_000,
        bodyTimeout: this.opts.timeoutMs ?? 10_000,
      });
    } catch (err) {
      throw new DeliveryError(`webhook ${redactUrl(this.opts.url)} unreachable: ${(err as Error).message}`, true);
    }
    await res.body.dump();
    if (res.statusCode >= 200 && res.statusCode < 300) return;
    const retryAfter = parseRetryAfter(res.headers['retry-after'], this.clock());
    const retryable = res.statusCode === 429 || res.statusCode === 408 || res.statusCode >= 500;
    throw new DeliveryError(`webhook ${redactUrl(this.opts.url)} answered HTTP ${res.statusCode}`, retryable, retryAfter);
  }
}

function withIncident(w: WebhookAlert, lookup?: IncidentLookup): WebhookAlert {
  const found = lookup?.(w.fingerprint);
  return found ? { ...w, incident: found.payload } : w;
}

export function toWire(a: Alert, commandName?: string): WebhookAlert {
  const advice = a.status === 'firing' ? adviceFor(a, commandName) : undefined;
  return {
    status: a.status,
    fingerprint: a.fingerprint,
    kind: a.kind,
    severity: a.severity,
    subject: a.subject,
    summary: a.summary,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    evidence: a.evidence,
    labels: a.labels,
    ...(advice ? { advice: advice.text, ...(advice.command ? { command: advice.command } : {}) } : {}),
  };
}

export function parseRetryAfter(v: string | string[] | undefined, now: number): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (!s) return undefined;
  const secs = Number(s);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(s);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

/** Webhook URLs often embed a token in the path or query (Slack/Discord webhooks): show only the origin. */
export function redactUrl(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid url)';
  }
}
