import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Paths pino masks wherever they appear in a log object. Secrets should never be logged in the first place;
 * this is the safety net for the day someone logs a whole request or config object.
 */
export const REDACT_PATHS = [
  'token',
  'key',
  'apiKey',
  'secret',
  'authorization',
  'password',
  '*.token',
  '*.key',
  '*.apiKey',
  '*.secret',
  '*.authorization',
  '*.password',
  'headers.authorization',
  '*.headers.authorization',
  'config.HEADSCALE_API_KEY',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_APP_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.DISCORD_TOKEN',
  'config.HEADWATCH_WEBHOOK_SECRET',
  'preAuthKey.key',
  '*.preAuthKey.key',
  // TLS client material of a Docker host (HEADWATCH_DOCKER_TLS_<NAME>_*): the key is a secret, and none of it helps a log reader.
  'tls',
  '*.tls',
  'config.HEADWATCH_DOCKER_HOSTS[*].tls',
];

/** Things that look like Headscale/Slack/Discord credentials, masked inside free text too. */
const SECRET_PATTERNS: RegExp[] = [
  /hskey-(?:auth|api)-[A-Za-z0-9_]+-[A-Za-z0-9_*]+/g,
  /xox[abposr]-[A-Za-z0-9-]+/g,
  /xapp-[A-Za-z0-9-]+/g,
  /\b[0-9a-f]{48}\b/g, // Headscale <= 0.27 pre-auth keys: 48 hex characters
  /\b[A-Za-z0-9]{7}\.[A-Za-z0-9_-]{32}\b/g, // Headscale <= 0.27 API keys: prefix.secret
  /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g, // a PEM private key (a Docker host's TLS key)
];

export function maskSecrets(text: string): string {
  let out = text;
  for (const re of SECRET_PATTERNS) out = out.replace(re, (m) => `${m.slice(0, Math.min(12, Math.floor(m.length / 3)))}…[redacted]`);
  return out;
}

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * Where logs go (stderr by default, so stdout carries only the console notifier's alert lines) and in which
 * form: `json`, one object a line with ISO times, for collectors; `pretty`, coloured readable lines for a
 * terminal, via pino-pretty, loaded only when asked for so the JSON default does not pay for it.
 */
export async function logDestination(format: LogFormat, fd = 2): Promise<pino.DestinationStream> {
  if (format === 'json') return pino.destination(fd);
  const { default: pretty } = await import('pino-pretty');
  return pretty({
    destination: fd,
    sync: true,
    colorize: fd === 2 ? process.stderr.isTTY === true : process.stdout.isTTY === true,
    translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
    ignore: 'pid,hostname',
    singleLine: true,
  });
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      // ISO 8601 rather than epoch milliseconds: readable in `docker logs` and still sortable.
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        // Free-text messages get the same protection as structured fields.
        logMethod(args, method) {
          for (let i = 0; i < args.length; i++) {
            if (typeof args[i] === 'string') args[i] = maskSecrets(args[i] as string) as never;
          }
          method.apply(this, args as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}
