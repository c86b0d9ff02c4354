/** Entry point of the `mua` service: `node services/mua/main.ts`. */
import { ConfigError } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { loadMuaConfig } from './config.ts';
import { startMua } from './server.ts';

async function main(): Promise<void> {
  const config = loadMuaConfig();
  const log = createLogger('mua', config.logLevel);
  const mua = await startMua(config, { log });
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    mua.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`mua: ${error.message}\n`);
    process.exit(2);
  }
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES') {
    process.stderr.write(`mua: cannot listen: ${(error as Error).message}\n`);
    process.exit(2);
  }
  process.stderr.write(`mua: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
