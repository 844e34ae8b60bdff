import { chartAttachment, renderCpuChart } from '../charts/render.js';
import type { Block, Message } from '../messages/model.js';
import { compareVersions, NEWEST_KNOWN_RELEASE } from '../sources/headscale/releases.js';
import type { HsNode, HsPreAuthKey, ServerInfo } from '../sources/headscale/types.js';
import type { ActivityCounts, ActivityTotal } from '../store/activity.js';
import type { CpuMinutes, CpuPeak } from '../store/cpu-minutes.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const TOP = 5;
const MAX_LISTED = 10;
const CHART_SERIES = 6;

/** Where the daily report's figures come from. Async sources may fail: the report then says so and goes on. */
export interface DailyReportSources {
  /** Label of the tailnet in the title (the Headscale host). */
  tailnet: string;
  timeZone: string;
  cpuThresholdPercent: number;
  /** Writes buffered counts and CPU minutes first, so the report includes the last minutes. */
  flush(): void;
  nodes(): Promise<HsNode[]>;
  preAuthKeys(): Promise<HsPreAuthKey[]>;
  server(): Promise<ServerInfo | undefined>;
  activity: ActivityCounts;
  cpu: CpuMinutes;
  /** Whether incidents exist in this build (the incident correlator is wired). */
  incidents: boolean;
}

export interface DailyReport {
  message: Message;
  from: number;
  to: number;
}

/**
 * The daily report: nodes online/offline/expired, the most flapping nodes and containers, alerts (and
 * incidents) fired and resolved, node keys and pre-auth keys expiring within 7 days, the Headscale version
 * against the newest release headwatch knows, and CPU peaks per watched container with a 24 h chart.
 * Counts cover the last 24 whole hours (the store counts per hour).
 */
export async function buildDailyReport(src: DailyReportSources, now: number): Promise<DailyReport> {
  src.flush();
  const to = now;
  const from = Math.floor((now - DAY) / HOUR) * HOUR;
  const [nodes, keys, server] = await Promise.all([settle(src.nodes()), settle(src.preAuthKeys()), settle(src.server())]);
  const when = formatTime(now, src.timeZone);
  const blocks: Block[] = [{ type: 'header', text: `Daily report · ${src.tailnet} · ${when}` }];

  blocks.push(...nodeSection(nodes, now));
  blocks.push(...flapSection(src.activity, from, to));
  blocks.push(...alertSection(src.activity, from, to, src.incidents));
  blocks.push(...expirySection(nodes, keys, now, src.timeZone));
  blocks.push(versionBlock(server));
  const peaks = src.cpu.peaks(from, to);
  blocks.push(...cpuSection(peaks, src.cpuThresholdPercent, src.timeZone));
  blocks.push({ type: 'context', text: `covers ${formatTime(from, src.timeZone)} – ${when} · HEADWATCH_REPORT_CRON sets when it is sent` });

  const message: Message = { fallback: `Daily report for ${src.tailnet} (${when})`, tone: 'info', blocks };
  const chart = await cpuChart(src, peaks, from, to);
  if (chart) message.images = [chart];
  return { message, from, to };
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: string };

async function settle<T>(p: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await p };
  } catch (err) {
    return { ok: false, error: (err as Error)?.message ?? String(err) };
  }
}

function nodeSection(nodes: Settled<HsNode[]>, now: number): Block[] {
  if (!nodes.ok) return [{ type: 'text', text: `*Nodes*: could not read the node list (${nodes.error}).` }];
  const expired = nodes.value.filter((n) => n.expiry !== null && Date.parse(n.expiry) <= now);
  const offline = nodes.value.filter((n) => !n.online && !expired.includes(n));
  const online = nodes.value.filter((n) => n.online && !expired.includes(n));
  const blocks: Block[] = [
    {
      type: 'fields',
      fields: [
        { label: 'Nodes online', value: String(online.length) },
        { label: 'Offline', value: String(offline.length) },
        { label: 'Key expired', value: String(expired.length) },
        { label: 'Total', value: String(nodes.value.length) },
      ],
    },
  ];
  if (offline.length > 0) blocks.push({ type: 'text', text: `Offline: ${listNames(offline.map(label))}` });
  if (expired.length > 0) blocks.push({ type: 'text', text: `Key expired: ${listNames(expired.map(label))}` });
  return blocks;
}

function flapSection(activity: ActivityCounts, from: number, to: number): Block[] {
  const nodes = activity.top('node-transition', from, to, TOP);
  const containers = activity.top('container-death', from, to, TOP);
  if (nodes.length === 0 && containers.length === 0) return [{ type: 'text', text: '*Flapping*: no node changed state and no container died in the last 24 h.' }];
  const rows = [
    ...nodes.map((n) => ['node', n.label, `${n.n} connect/disconnect`]),
    ...containers.map((c) => ['container', c.label, `${c.n} ${c.n === 1 ? 'death' : 'deaths'}`]),
  ];
  return [{ type: 'text', text: '*Most flapping, last 24 h*' }, { type: 'table', columns: ['what', 'name', 'count'], rows }];
}

function alertSection(activity: ActivityCounts, from: number, to: number, incidents: boolean): Block[] {
  const fired = activity.total('alert-fired', from, to);
  const resolved = activity.total('alert-resolved', from, to);
  const fields = [
    { label: 'Alerts fired', value: String(fired) },
    { label: 'Alerts resolved', value: String(resolved) },
  ];
  if (incidents) {
    fields.push({ label: 'Incidents opened', value: String(activity.total('incident-opened', from, to)) });
    fields.push({ label: 'Incidents resolved', value: String(activity.total('incident-resolved', from, to)) });
  }
  const byKind = activity.top('alert-fired', from, to, TOP);
  const blocks: Block[] = [{ type: 'fields', fields }];
  if (byKind.length > 0) blocks.push({ type: 'context', text: `fired by kind: ${byKind.map((k: ActivityTotal) => `${k.subject} ×${k.n}`).join(', ')}` });
  return blocks;
}

function expirySection(nodes: Settled<HsNode[]>, keys: Settled<HsPreAuthKey[]>, now: number, tz: string): Block[] {
  const lines: string[] = [];
  if (nodes.ok) {
    for (const n of nodes.value) {
      const at = n.expiry === null ? NaN : Date.parse(n.expiry);
      if (at > now && at - now <= WEEK) lines.push(`node ${label(n)} (${n.user?.name ?? 'no user'}): key expires ${formatTime(at, tz)}`);
    }
  }
  if (keys.ok) {
    for (const k of keys.value) {
      const at = k.expiration === null ? NaN : Date.parse(k.expiration);
      // A used single-use key can no longer register anything: its expiry does not matter.
      if (!(at > now && at - now <= WEEK) || (k.used && !k.reusable)) continue;
      lines.push(`pre-auth key ${k.id}${k.user ? ` (${k.user.name})` : ''}${k.reusable ? ', reusable' : ''}: expires ${formatTime(at, tz)}`);
    }
  }
  const blocks: Block[] = [{ type: 'text', text: lines.length === 0 ? '*Expiring within 7 days*: nothing.' : '*Expiring within 7 days*' }];
  if (lines.length > 0) blocks.push({ type: 'code', text: [...lines.slice(0, 2 * MAX_LISTED), ...(lines.length > 2 * MAX_LISTED ? [`…and ${lines.length - 2 * MAX_LISTED} more`] : [])].join('\n') });
  if (!keys.ok) blocks.push({ type: 'context', text: `pre-auth keys could not be read: ${keys.error}` });
  return blocks;
}

function versionBlock(server: Settled<ServerInfo | undefined>): Block {
  if (!server.ok || !server.value) return { type: 'text', text: `*Headscale*: version unknown${server.ok ? '' : ` (${server.error})`}; newest release headwatch knows: ${NEWEST_KNOWN_RELEASE}.` };
  const v = server.value.version.replace(/^v/, '');
  const cmp = compareVersions(v, NEWEST_KNOWN_RELEASE);
  const verdict =
    cmp === undefined
      ? `detected as ${v} by ${server.value.detectedBy}; newest release headwatch knows: ${NEWEST_KNOWN_RELEASE}`
      : cmp < 0
        ? `${v}; ${NEWEST_KNOWN_RELEASE} is available (upgrade one minor release at a time: Headscale refuses to skip minors)`
        : cmp === 0
          ? `${v}, the newest release headwatch knows`
          : `${v}, newer than the newest release headwatch knows (${NEWEST_KNOWN_RELEASE}); check headwatch for an update`;
  return { type: 'text', text: `*Headscale*: ${verdict}.` };
}

function cpuSection(peaks: CpuPeak[], threshold: number, tz: string): Block[] {
  if (peaks.length === 0) return [{ type: 'text', text: '*CPU peaks*: no CPU samples in the last 24 h.' }];
  return [
    { type: 'text', text: `*CPU peaks, last 24 h* (threshold ${threshold} %)` },
    {
      type: 'table',
      columns: ['container', 'peak', 'at', 'mean'],
      rows: peaks.slice(0, MAX_LISTED).map((p) => [p.container, `${p.peak.toFixed(1)} %${p.peak >= threshold ? ' ⚠' : ''}`, formatTime(p.at, tz), `${p.mean.toFixed(1)} %`]),
    },
  ];
}

/** Ten-minute peaks of the busiest containers; a failed render leaves the report without a picture. */
async function cpuChart(src: DailyReportSources, peaks: CpuPeak[], from: number, to: number) {
  if (peaks.length === 0) return undefined;
  const bucket = 10 * 60_000;
  const series = peaks.slice(0, CHART_SERIES).map((p) => {
    const byBucket = new Map<number, number>();
    for (const m of src.cpu.range(p.container, from, to)) {
      const b = Math.floor(m.minute / bucket) * bucket;
      byBucket.set(b, Math.max(byBucket.get(b) ?? 0, m.peak));
    }
    return { name: p.container, points: [...byBucket.entries()].sort((a, b) => a[0] - b[0]).map(([at, percent]) => ({ at: at + bucket / 2, percent })) };
  });
  try {
    const chart = await renderCpuChart({ title: 'CPU peaks · last 24 h', subtitle: '10-minute peaks, % of each container’s CPU allowance', series, threshold: src.cpuThresholdPercent, from, to, timeZone: src.timeZone, width: 900, height: 340 });
    return chartAttachment(chart, 'CPU peaks, last 24 h');
  } catch {
    return undefined;
  }
}

function label(n: HsNode): string {
  return n.givenName || n.name || n.id;
}

function listNames(names: string[]): string {
  const shown = names.slice(0, MAX_LISTED).join(', ');
  return names.length > MAX_LISTED ? `${shown} …and ${names.length - MAX_LISTED} more` : shown;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** `2026-03-02 09:00 UTC` in the report's zone. */
export function formatTime(t: number, timeZone: string): string {
  let f = formats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    formats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${parts.timeZoneName}`;
}
