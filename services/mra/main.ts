/** Entry point of the MRA container and of the no-Docker lab: `node services/mra/main.ts`. */
import { ConfigError } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMraConfig } from './config.ts';
import { startMra } from './server.ts';

async function main(): Promise<void> {
  const config = loadMraConfig();
  const logger = createLogger(config.MRA_NAME, config.LOG_LEVEL);
  await ensureLabUsers(config.MXLAB_USERS_DIR);
  let mra;
  try {
    mra = await startMra(config, { logger });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES') {
      const { address, port } = error as NodeJS.ErrnoException & { address?: string; port?: number };
      logger.fatal(`cannot listen on ${address ?? '?'}:${port ?? '?'}: ${code === 'EADDRINUSE' ? 'port already in use' : 'permission denied'}`);
      process.exit(1);
    }
    throw error;
  }
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    mra
      .close()
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`mra failed to start: ${(error as Error).stack ?? String(error)}\n`);
  }
  process.exit(1);
});
