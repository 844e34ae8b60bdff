import { z } from 'zod';
import cron from 'node-cron';
import { parseIdentities, type IdentityMap } from '../policy/identities.js';
import { dockerHostList } from './docker-hosts.js';

/**
 * Every setting headwatch reads, in one place. Names are the environment variable names so an error can
 * name exactly what the operator has to fix. Secrets are listed in SECRET_VARIABLES: each of them may also be
 * given as NAME_FILE (a path whose contents are the value), the Docker/Kubernetes secrets convention.
 */

const int = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a whole number between ${min} and ${max}` })
    .int({ error: `must be a whole number between ${min} and ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const num = (min: number, max: number) =>
  z.coerce
    .number({ error: `must be a number between ${min} and ${max}` })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const list = z
  .string()
  .transform((v) =>
    v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0),
  );

const httpUrl = z
  .string()
  .refine((v) => /^https?:\/\/[^\s]+$/i.test(v) && URL.canParse(v), {
    error: 'must be an http:// or https:// URL',
  });

const principalList = list.refine((ids) => ids.every((id) => /^(slack|discord):[A-Za-z0-9_-]+$/.test(id)), {
  error: 'must be a comma list of slack:<user id> or discord:<user id>',
});

/** `container=node,container=node` (HEADWATCH_NODE_MAP), parsed to a map. */
const nodeMap = z.string().transform((v, ctx) => {
  const out = new Map<string, string>();
  for (const part of v.split(',')) {
    const t = part.trim();
    if (!t) continue;
    const i = t.indexOf('=');
    if (i <= 0 || i === t.length - 1) {
      ctx.addIssue({ code: 'custom', message: `"${t}" is not container=node; write pairs like ts-nas=nas-01,ts-laptop=12` });
      return z.NEVER;
    }
    out.set(t.slice(0, i).trim().replace(/^\//, ''), t.slice(i + 1).trim());
  }
  return out;
});

/**
 * Duration such as 30s, 5m, 1h or 7d, parsed to milliseconds. A bare number is refused: `HEADWATCH_GROUP_WAIT=30`
 * could mean seconds or minutes, and guessing wrong delays every chat alert by a factor of sixty.
 */
export const durationMs = z.string().transform((v, ctx) => {
  if (/^\s*\d+(?:\.\d+)?\s*$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: `needs a unit: write ${v.trim()}s for seconds or ${v.trim()}m for minutes (units: ms, s, m, h, d)` });
    return z.NEVER;
  }
  const ms = parseDuration(v);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration with a unit, such as 30s, 5m, 1h or 7d' });
    return z.NEVER;
  }
  return ms;
});

export function parseDuration(v: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[unit as 'ms' | 's' | 'm' | 'h' | 'd'];
  const ms = Math.round(n * factor);
  return ms > 0 ? ms : undefined;
}

/** A 5-field cron expression (minute hour day-of-month month day-of-week) or `off`. */
const cronOrOff = z.string().transform((v, ctx) => {
  const s = v.trim().replace(/\s+/g, ' ');
  if (s.toLowerCase() === 'off') return 'off';
  const fields = s.split(' ').length;
  const check = fields === 5 ? cron.validateDetailed(s) : undefined;
  if (!check?.valid) {
    const why = check?.errors[0]?.message ?? `expected 5 fields (minute hour day month weekday), got ${fields}`;
    ctx.addIssue({ code: 'custom', message: `must be a cron expression such as "0 9 * * *" (daily at 09:00) or off: ${why}` });
    return z.NEVER;
  }
  return s;
});

const timeZone = z.string().refine(
  (v) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: v });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone such as UTC, Europe/Berlin or America/New_York' },
);

const identities = z.string().transform((v, ctx): IdentityMap => {
  const r = parseIdentities(v);
  if ('error' in r) {
    ctx.addIssue({ code: 'custom', message: r.error });
    return z.NEVER;
  }
  return r.map;
});

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const DEFAULT_DB = './data/headwatch.db';

export const configSchema = z.object({
  // --- watcher foundation ---
  DOCKER_HOST: z.string().min(1).optional(),
  /** Several engines, `name=url,…` (src/config/docker-hosts.ts); TLS per host from HEADWATCH_DOCKER_TLS_<NAME>_*. */
  HEADWATCH_DOCKER_HOSTS: dockerHostList.optional(),
  /** known_hosts file for ssh:// Docker hosts (default ~/.ssh/known_hosts); their host keys are checked against it. */
  HEADWATCH_SSH_KNOWN_HOSTS: z.string().min(1).optional(),
  HEADSCALE_CONTAINER: z.string().min(1).default('headscale'),
  TAILSCALE_CONTAINERS: list.optional(),
  HEADWATCH_DB: z.string().min(1).default(DEFAULT_DB),
  // PostgreSQL instead of the SQLite file (replicas share it); a secret: it carries the password.
  HEADWATCH_DATABASE_URL: z
    .string()
    .min(1)
    .refine((v) => /^postgres(ql)?:\/\/[^/]/i.test(v) && URL.canParse(v), {
      error: 'must be a PostgreSQL address such as postgres://headwatch:PASSWORD@db.example:5432/headwatch (or postgresql://…)',
    })
    .optional(),
  HEADWATCH_HTTP_PORT: int(0, 65535).default(9464),
  HEADWATCH_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  HEADWATCH_WEBHOOK_URL: httpUrl.optional(),
  HEADWATCH_WEBHOOK_SECRET: z.string().min(1).optional(),
  HEADWATCH_CONSOLE: bool.default(true),
  CPU_THRESHOLD_PERCENT: num(1, 10_000).default(80),
  CPU_CLEAR_MARGIN_PERCENT: num(0, 100).default(10),
  CPU_SUSTAIN_SECONDS: int(1, 86_400).default(60),
  CPU_SAMPLE_SECONDS: int(1, 3600).default(10),
  FLAP_COUNT: int(2, 100_000).default(6),
  FLAP_WINDOW_SECONDS: int(10, 86_400).default(300),
  RATELIMIT_COUNT: int(2, 100_000).default(5),
  RATELIMIT_WINDOW_SECONDS: int(10, 86_400).default(300),
  /** YAML file of user-defined log rules (src/rules/load.ts); checked at start. */
  HEADWATCH_RULES_FILE: z.string().min(1).optional(),
  /** A watched container absent this long (a compose recreate takes seconds) is container-missing. */
  CONTAINER_MISSING_SECONDS: int(1, 86_400).default(30),
  /** A watched container stopped this long, not brought back by its restart policy, is container-down. */
  CONTAINER_DOWN_SECONDS: int(1, 86_400).default(30),
  /** container-restart-loop: this many starts within CONTAINER_RESTART_WINDOW_SECONDS. */
  CONTAINER_RESTART_COUNT: int(2, 1000).default(4),
  CONTAINER_RESTART_WINDOW_SECONDS: int(10, 86_400).default(600),
  LOG_LEVEL: z.enum(LOG_LEVELS, { error: `must be one of ${LOG_LEVELS.join(', ')}` }).default('info'),
  /** json (one object a line, for collectors) or pretty (readable lines for a terminal). */
  LOG_FORMAT: z.enum(['json', 'pretty'], { error: 'must be json or pretty' }).default('json'),

  // --- Headscale API ---
  HEADSCALE_URL: httpUrl.default('http://127.0.0.1:8080'),
  HEADSCALE_API_KEY: z.string().min(1).optional(),
  HEADSCALE_POLL_SECONDS: int(1, 3600).default(10),
  HEADSCALE_TIMEOUT_SECONDS: int(1, 300).default(10),
  /** Warn this many hours before a node key expires (node-expiring). */
  HEADSCALE_EXPIRY_WARN_HOURS: int(1, 720).default(24),
  /** Headscale's metrics_listen_addr /metrics, scraped every HEADSCALE_POLL_SECONDS (map-response storms, /debug/batcher). */
  HEADSCALE_METRICS_URL: httpUrl.optional(),
  /** Map responses per node per minute that make a storm (normal 1–5). */
  MAP_STORM_RATE: num(2, 100_000).default(20),
  MAP_STORM_SUSTAIN_SECONDS: int(10, 86_400).default(120),
  /** How often the Headscale release is detected again (also whenever the Headscale container starts). */
  HEADSCALE_REDETECT: durationMs.default(600_000),
  /** A misconfiguration alert (proxy, unsupported client, forced 443) clears after this long without another line. */
  HEADWATCH_MISCONFIG_QUIET: durationMs.default(900_000),

  // --- chat delivery ---
  SLACK_BOT_TOKEN: z.string().min(1).optional(),
  SLACK_APP_TOKEN: z.string().min(1).optional(),
  SLACK_SIGNING_SECRET: z.string().min(1).optional(),
  SLACK_CHANNEL: z.string().min(1).optional(),
  SLACK_API_URL: httpUrl.default('https://slack.com/api/'),
  DISCORD_TOKEN: z.string().min(1).optional(),
  DISCORD_APPLICATION_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric Discord id' }).optional(),
  DISCORD_GUILD_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric Discord id' }).optional(),
  DISCORD_CHANNEL_ID: z.string().regex(/^\d+$/, { error: 'must be a numeric Discord id' }).optional(),
  DISCORD_API_URL: httpUrl.default('https://discord.com/api'),
  HEADWATCH_ROUTES: z.string().optional(),
  HEADWATCH_GROUP_WAIT: durationMs.default(30_000),
  HEADWATCH_GROUP_INTERVAL: durationMs.default(300_000),
  HEADWATCH_REPEAT_INTERVAL: durationMs.default(14_400_000),
  HEADWATCH_CHANNEL_BUDGET: int(1, 10_000).default(10),
  /** A change to an alert that already has a message edits it at once, but one message at most this often. */
  HEADWATCH_EDIT_INTERVAL: durationMs.default(10_000),

  // --- daily report ---
  HEADWATCH_REPORT_CRON: cronOrOff.default('0 9 * * *'),
  HEADWATCH_REPORT_TZ: timeZone.default('UTC'),

  // --- Tailscale-style event webhooks (src/events) ---
  /** Receiver of nodeCreated, nodeDeleted, key expiry, policyUpdate and debounced nodeConnected/Disconnected. */
  HEADWATCH_EVENTS_URL: httpUrl.optional(),
  /** Signs each body like Tailscale: Tailscale-Webhook-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">. */
  HEADWATCH_EVENTS_SECRET: z.string().min(1).optional(),
  /** A connect or disconnect is told only once it held this long (a blip tells nothing). */
  HEADWATCH_EVENTS_DEBOUNCE: durationMs.default(30_000),
  /** The events' `tailnet` field; default: the host name of HEADSCALE_URL. */
  HEADWATCH_EVENTS_TAILNET: z.string().min(1).optional(),

  // --- commands ---
  HEADWATCH_COMMAND: z
    .string()
    .regex(/^[a-z0-9_-]{1,32}$/, { error: 'must be 1–32 lower-case letters, digits, - or _' })
    .default('headscale'),
  HEADWATCH_OPERATORS: principalList.default([]),
  HEADWATCH_APPROVERS: principalList.default([]),
  HEADWATCH_ADMINS: principalList.default([]),
  HEADWATCH_KEY_APPROVAL: bool.default(true),
  HEADWATCH_SELF_APPROVE: bool.default(false),
  HEADWATCH_APPROVALS_REQUIRED: int(1, 10).default(1),
  HEADWATCH_APPROVAL_TTL: durationMs.default(900_000),
  /** One person's accounts tied together (alice=slack:U1,discord:2;bob=…): n-of-m counts people, no self-approval from the other account. */
  HEADWATCH_IDENTITIES: identities.optional(),
  HEADWATCH_RESTARTABLE: list.optional(),

  // --- replicas on PostgreSQL (HEADWATCH_DATABASE_URL): the leader lease ---
  HEADWATCH_LEASE_TTL: durationMs.default(10_000),
  HEADWATCH_LEASE_RENEW: durationMs.default(3_000),
  /** A container's log is resumed from where it was left (restart, takeover), but never from further back than this. */
  HEADWATCH_LOG_CATCHUP_MAX: durationMs.default(600_000),

  // --- incidents ---
  /** Correlate alerts about one node/container (or the server) into one incident message. */
  HEADWATCH_INCIDENTS: bool.default(true),
  /** Alerts this close to an incident's last activity join it (a resolved one re-opens). */
  HEADWATCH_INCIDENT_WINDOW: durationMs.default(600_000),
  /** Nodes in trouble within the window that make one server incident instead of one per node. */
  HEADWATCH_INCIDENT_SERVER_NODES: int(2, 100_000).default(3),
  /** container=node pairs (node by name or id) for containers whose TS_HOSTNAME/hostname/name differ from the node. */
  HEADWATCH_NODE_MAP: nodeMap.optional(),
  /** How long Re-register waits for the node to come back online. */
  HEADWATCH_REREGISTER_WAIT: durationMs.default(120_000),
});

export type Config = z.infer<typeof configSchema>;

/** Variables whose values are secrets: they accept NAME_FILE and are never logged. */
export const SECRET_VARIABLES = [
  'HEADWATCH_WEBHOOK_SECRET',
  'HEADWATCH_EVENTS_SECRET',
  'HEADSCALE_API_KEY',
  'SLACK_BOT_TOKEN',
  'SLACK_APP_TOKEN',
  'SLACK_SIGNING_SECRET',
  'DISCORD_TOKEN',
  'HEADWATCH_DATABASE_URL',
] as const;
