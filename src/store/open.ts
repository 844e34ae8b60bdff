import type { Logger } from 'pino';
import { ConfigError } from '../config/errors.js';
import { DEFAULT_DB, type Config } from '../config/schema.js';
import { Store, StoreConnectError, StorePathError } from './db.js';
import { isPostgresUrl } from './sql.js';

/**
 * The store is HEADWATCH_DATABASE_URL (PostgreSQL) when set, else the HEADWATCH_DB file: a path or server it
 * cannot use is a configuration problem, reported as one.
 */
export function openStore(config: Config, logger: Logger): Store {
  const url = config.HEADWATCH_DATABASE_URL;
  if (url) {
    if (config.HEADWATCH_DB !== DEFAULT_DB) logger.warn({ ignored: config.HEADWATCH_DB }, 'HEADWATCH_DB is ignored: HEADWATCH_DATABASE_URL is set and wins');
    try {
      return new Store(url);
    } catch (err) {
      if (err instanceof StoreConnectError) throw new ConfigError([`HEADWATCH_DATABASE_URL: ${err.message}`]);
      throw err;
    }
  }
  const path = config.HEADWATCH_DB;
  if (isPostgresUrl(path)) throw new ConfigError([`HEADWATCH_DB is a file path; a PostgreSQL address goes into HEADWATCH_DATABASE_URL`]);
  try {
    return new Store(path);
  } catch (err) {
    if (err instanceof StorePathError) throw new ConfigError([`HEADWATCH_DB (${path}): ${err.message}`]);
    throw err;
  }
}
