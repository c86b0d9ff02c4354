/**
 * Entry point of an MDA container (`node services/mda/main.ts`): reads the config once,
 * makes the lab users at first start, serves LMTP until SIGINT or SIGTERM.
 */
import { ConfigError } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMdaConfig } from './config.ts';
import { startMda } from './server.ts';

async function main(): Promise<void> {
  const config = loadMdaConfig();
  const logger = createLogger(config.name, config.logLevel);
  await ensureLabUsers(config.usersDir);
  const mda = await startMda(config, { logger });
  logger.info({ lmtp: mda.lmtp.map((address) => `${address.address}:${address.port}`), domains: config.domains }, 'MDA ready');
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    mda.close().then(
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
  const message = error instanceof ConfigError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`mda: ${message}\n`);
  process.exit(1);
});
