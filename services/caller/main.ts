/**
 * Entry point of the caller container (`node services/caller/main.ts`): reads the config
 * once, serves the scan API until SIGINT or SIGTERM.
 */
import { createLogger } from '../../shared/log.ts';
import { loadCallerConfig } from './config.ts';
import { startCaller } from './server.ts';

async function main(): Promise<void> {
  const config = loadCallerConfig();
  const logger = createLogger('caller', config.logLevel);
  const caller = await startCaller(config, { logger });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    caller.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`caller: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
