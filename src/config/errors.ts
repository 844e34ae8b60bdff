/**
 * A setting is missing, malformed, contradicts another, or cannot be used on this machine (port taken, database
 * directory missing). Each problem names the variable to fix; the process entry prints them and exits 2.
 */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`headwatch cannot start, fix these settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}
