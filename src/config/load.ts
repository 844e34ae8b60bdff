import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { configSchema, SECRET_VARIABLES, type Config } from './schema.js';
import { loadRules, RulesError } from '../rules/load.js';

/** Thrown when a setting is missing or malformed; the message names the variable and what is allowed. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`headwatch cannot start, fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** Process environment (defaults to process.env). */
  env?: NodeJS.ProcessEnv;
  /** Path of a dotenv file to merge under the environment; missing file is fine. */
  dotenvPath?: string | false;
}

/**
 * Reads settings from the environment (and `.env`, which never overrides a real environment variable),
 * resolves NAME_FILE for every secret, and validates everything at once so the operator sees every problem
 * in one go.
 */
export function loadConfig(opts: LoadOptions = {}): Config {
  const env = opts.env ?? process.env;
  const merged: Record<string, string> = {};
  if (opts.dotenvPath !== false) {
    const path = opts.dotenvPath ?? '.env';
    try {
      Object.assign(merged, parseDotenv(readFileSync(path)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new ConfigError([`could not read ${path}: ${(err as Error).message}`]);
      }
    }
  }
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;

  const problems: string[] = [];
  for (const name of SECRET_VARIABLES) {
    const fileVar = `${name}_FILE`;
    const file = merged[fileVar];
    if (file === undefined || file === '') continue;
    if (merged[name] !== undefined && merged[name] !== '') {
      problems.push(`${name} and ${fileVar} are both set; set only one`);
      continue;
    }
    try {
      merged[name] = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
      if (merged[name] === '') problems.push(`${fileVar}: the file ${file} is empty`);
    } catch (err) {
      problems.push(`${fileVar}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }

  // Empty strings mean "unset", as in most .env files.
  const input: Record<string, string> = {};
  for (const key of Object.keys(configSchema.shape)) {
    const v = merged[key];
    if (v !== undefined && v !== '') input[key] = v;
  }
  const result = configSchema.safeParse(input);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const name = String(issue.path[0] ?? 'config');
      const shown = (SECRET_VARIABLES as readonly string[]).includes(name) ? '' : ` (got "${truncate(input[name])}")`;
      problems.push(`${name}: ${issue.message}${shown}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = result.data!;
  const cross = crossChecks(config);
  if (cross.length > 0) throw new ConfigError(cross);
  return config;
}

function crossChecks(c: Config): string[] {
  const out: string[] = [];
  if (c.HEADWATCH_WEBHOOK_SECRET && !c.HEADWATCH_WEBHOOK_URL) {
    out.push('HEADWATCH_WEBHOOK_SECRET is set but HEADWATCH_WEBHOOK_URL is not; set the URL or remove the secret');
  }
  if (c.SLACK_BOT_TOKEN && !c.SLACK_APP_TOKEN && !c.SLACK_SIGNING_SECRET) {
    out.push('SLACK_BOT_TOKEN needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)');
  }
  if (c.HEADWATCH_RULES_FILE) {
    try {
      loadRules(c.HEADWATCH_RULES_FILE);
    } catch (err) {
      if (!(err instanceof RulesError)) throw err;
      for (const p of err.problems) out.push(`HEADWATCH_RULES_FILE ${err.file}: ${p}`);
    }
  }
  if (c.SLACK_BOT_TOKEN && !c.SLACK_CHANNEL) out.push('SLACK_CHANNEL: required when SLACK_BOT_TOKEN is set');
  if (c.DISCORD_TOKEN) {
    for (const k of ['DISCORD_APPLICATION_ID', 'DISCORD_GUILD_ID', 'DISCORD_CHANNEL_ID'] as const) {
      if (!c[k]) out.push(`${k}: required when DISCORD_TOKEN is set`);
    }
  }
  return out;
}

function truncate(v: string | undefined): string {
  if (v === undefined) return '';
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}
