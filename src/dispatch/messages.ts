import { adviceFor } from '../alerts/kinds.js';
import type { Alert, Severity } from '../alerts/model.js';
import type { Block, Message, Tone } from '../messages/model.js';
import type { DigestKindCount } from '../store/notification-log.js';

/** Neutral messages for alerts and storm digests; the adapters render them per platform. */

const TONE: Record<Severity, Tone> = { critical: 'critical', warning: 'warning', info: 'info' };
const MAX_EVIDENCE_SHOWN = 5;
/** Discord custom_id is at most 100 characters; Slack action_id 255. */
const MAX_ACTION_ID = 100;

export const SILENCE_PREFIX = 'silence:';

/** `silence:<fingerprint>:1h`, or by a short hash when the fingerprint is too long for Discord. */
export function silenceActionId(fingerprint: string, duration = '1h', hash?: string): string {
  const id = `${SILENCE_PREFIX}${fingerprint}:${duration}`;
  return id.length <= MAX_ACTION_ID || !hash ? id : `${SILENCE_PREFIX}#${hash}:${duration}`;
}

/** Reads `silence:<fingerprint or #hash>:<duration>`; fingerprints may themselves contain ':'. */
export function parseSilenceAction(actionId: string): { target: string; byHash: boolean; duration: string } | undefined {
  if (!actionId.startsWith(SILENCE_PREFIX)) return undefined;
  const rest = actionId.slice(SILENCE_PREFIX.length);
  const cut = rest.lastIndexOf(':');
  if (cut <= 0) return undefined;
  const target = rest.slice(0, cut);
  const duration = rest.slice(cut + 1);
  if (!/^\d+[smhd]$/.test(duration)) return undefined;
  return target.startsWith('#') ? { target: target.slice(1), byHash: true, duration } : { target, byHash: false, duration };
}

export interface AlertMessageOptions {
  /** Offer the "Silence 1h" button (firing alerts only). */
  silenceActionId?: string;
  /** Shown on the message after someone silenced it. */
  silencedNote?: string;
  now: number;
  /** HEADWATCH_COMMAND, for the slash command the advice suggests (default `headscale`). */
  commandName?: string;
}

export function alertMessage(alert: Alert, opts: AlertMessageOptions): Message {
  const resolved = alert.status === 'resolved';
  const title = `${resolved ? 'RESOLVED' : alert.severity.toUpperCase()} · ${alert.kind} · ${alert.subject}`;
  const blocks: Block[] = [
    { type: 'header', text: title },
    { type: 'text', text: alert.summary },
    {
      type: 'fields',
      fields: [
        { label: 'Severity', value: alert.severity },
        { label: 'Subject', value: alert.subject },
        { label: resolved ? 'Lasted' : 'Firing for', value: formatDuration(endOf(alert, opts.now) - Date.parse(alert.startsAt)) },
        { label: 'Occurrences', value: String(alert.occurrences) },
      ],
    },
  ];
  const evidence = alert.evidence.slice(-MAX_EVIDENCE_SHOWN);
  if (evidence.length > 0 && !resolved) blocks.push({ type: 'code', text: evidence.join('\n') });
  if (!resolved) {
    const advice = adviceFor(alert, opts.commandName);
    blocks.push({ type: 'text', text: `What to do: ${advice.text}${advice.command ? ` Try \`${advice.command}\`.` : ''}` });
  }
  if (opts.silencedNote) blocks.push({ type: 'context', text: opts.silencedNote });
  if (!resolved && opts.silenceActionId) {
    blocks.push({ type: 'buttons', buttons: [{ actionId: opts.silenceActionId, label: 'Silence 1h', style: 'default' }] });
  }
  blocks.push({ type: 'context', text: `fingerprint ${alert.fingerprint} · since ${alert.startsAt}` });
  return { fallback: `${title}: ${alert.summary}`, tone: resolved ? 'ok' : TONE[alert.severity], blocks };
}

/** One line per alert change, for threads and digest details. */
export function alertLine(alert: Alert, what: 'firing' | 'still firing' | 'firing again' | 'updated' | 'resolved', now: number): string {
  const mark = what === 'resolved' ? '✅' : alert.severity === 'critical' ? '🔴' : alert.severity === 'warning' ? '🟠' : 'ℹ️';
  const tail = what === 'resolved' ? ` after ${formatDuration(endOf(alert, now) - Date.parse(alert.startsAt))}` : '';
  return `${mark} ${what}: ${alert.kind} · ${alert.subject} — ${alert.summary}${tail}`;
}

export function threadNote(lines: string[], extra = 0): Message {
  const text = lines.join('\n') + (extra > 0 ? `\n…and ${extra} more` : '');
  return { fallback: text, tone: 'neutral', blocks: [{ type: 'text', text }] };
}

const KIND_PHRASES: Record<string, [string, string]> = {
  'node-flapping': ['node flapping', 'nodes flapping'],
  'node-offline': ['node offline', 'nodes offline'],
  'cpu-sustained': ['container on high CPU', 'containers on high CPU'],
  'node-expiring': ['node key expiring', 'node keys expiring'],
  'node-expired': ['node key expired', 'node keys expired'],
  'unsupported-client': ['unsupported client', 'unsupported clients'],
};

/** Per kind: distinct alerts folded into the digest firing now, resolved, and their summed `labels.count`. */
export type DigestCounts = DigestKindCount;

export function digestHeadline(counts: DigestCounts[], spanMs: number): string {
  const parts = counts
    .filter((c) => c.firing > 0 || c.weight > 0)
    .map((c) => {
      if (c.kind === 'ratelimit-flood') return `RATELIMIT ×${c.weight > 0 ? c.weight.toLocaleString('en-US') : c.firing}`;
      const [one, many] = KIND_PHRASES[c.kind] ?? [`${c.kind} alert`, `${c.kind} alerts`];
      return `${c.firing.toLocaleString('en-US')} ${c.firing === 1 ? one : many}`;
    });
  const what = parts.length > 0 ? parts.join(', ') : 'alerts settling';
  return `${what} in ${formatDuration(spanMs)}`;
}

export function digestMessage(counts: DigestCounts[], startedAt: number, now: number, ended: boolean): Message {
  const headline = digestHeadline(counts, now - startedAt);
  const firing = counts.reduce((n, c) => n + c.firing, 0);
  const blocks: Block[] = [
    { type: 'header', text: ended ? `Alert storm over · ${headline}` : `Alert storm · ${headline}` },
    {
      type: 'table',
      columns: ['kind', 'firing', 'resolved'],
      rows: counts.map((c) => [c.kind, String(c.firing), String(c.resolved)]),
    },
    {
      type: 'text',
      text: ended
        ? `The storm is over; ${firing} of these alerts still fire. Each new alert gets its own message again.`
        : 'Too many alerts for this channel: they are folded into this message, which keeps updating. Details are in its thread.',
    },
    { type: 'context', text: `since ${new Date(startedAt).toISOString()} · updated ${new Date(now).toISOString()}` },
  ];
  return { fallback: `${ended ? 'Alert storm over' : 'Alert storm'}: ${headline}`, tone: ended ? 'ok' : 'warning', blocks };
}

function endOf(alert: Alert, now: number): number {
  return alert.endsAt ? Date.parse(alert.endsAt) : now;
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
