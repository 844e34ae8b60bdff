import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { configSchema, SECRET_VARIABLES, type Config } from './schema.js';
import { ConfigError } from './errors.js';
import { contradictions } from './contradictions.js';
import { dockerHosts, resolveDockerTls, resolveSshKnownHosts } from './docker-hosts.js';

export { ConfigError };

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
  if (result.success) {
    problems.push(...resolveDockerTls(result.data.HEADWATCH_DOCKER_HOSTS, merged));
    problems.push(...resolveSshKnownHosts(dockerHosts(result.data)));
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = result.data!;
  const cross = contradictions(config);
  if (cross.length > 0) throw new ConfigError(cross);
  return config;
}

function truncate(v: string | undefined): string {
  if (v === undefined) return '';
  return v.length > 60 ? `${v.slice(0, 57)}...` : v;
}
