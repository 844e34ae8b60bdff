import { loadConfig, ConfigError } from './config/load.js';
import { createLogger, logDestination } from './log/logger.js';
import { createHeadwatch } from './app.js';

/** Process entry: read and validate config, start, stop cleanly on SIGINT/SIGTERM. */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  // Logs go to stderr so stdout carries only the console notifier's alert lines.
  const logger = createLogger(config.LOG_LEVEL, await logDestination(config.LOG_FORMAT));
  const app = await createHeadwatch({
    config,
    logger,
    // Replicas: a leader that lost its lease has stopped sending; ending the process at once is the simple safe
    // step (as Kubernetes' own leader election does): its supervisor restarts it, as a standby.
    onDeposed: (reason) => {
      logger.error({ reason }, 'leader lease lost: exiting so that this replica restarts as a standby');
      process.exit(75);
    },
  });
  const shutdown = async (signal: string) => {
    logger.info({ signal }, 'shutting down');
    try {
      await app.stop();
    } finally {
      process.exit(0);
    }
  };
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  // A bug in one component must not take the watcher down silently: log it loudly and keep running.
  process.on('unhandledRejection', (reason) => logger.error({ err: reason instanceof Error ? reason.message : String(reason) }, 'unhandled rejection'));
  await app.start();
}

main().catch((err: unknown) => {
  // A setting that turns out unusable only at start (port taken, database directory missing) is still a
  // configuration problem: same message shape and exit code as a malformed value.
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`headwatch failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
