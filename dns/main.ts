/**
 * `node dns/main.ts`: the lab DNS for the no-Docker mode (compose runs CoreDNS on the
 * same zone files). Stops cleanly on SIGINT/SIGTERM; a taken port is a clear error.
 */
import { createLogger } from '../shared/log.ts';
import { loadDnsConfig } from './config.ts';
import { startDnsServer } from './server.ts';

const logger = createLogger('dns');

async function main(): Promise<void> {
  const config = loadDnsConfig();
  if (config.LOG_LEVEL !== undefined) logger.level = config.LOG_LEVEL;
  const server = await startDnsServer({
    listen: config.DNS_LISTEN,
    zonesDir: config.DNS_ZONES_DIR,
    addressMode: config.DNS_ADDRESS_MODE,
    logger,
  });
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, (error as Error).message);
  process.stderr.write(`dns: ${(error as Error).message}\n`);
  process.exit(1);
});
