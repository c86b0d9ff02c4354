/**
 * Entry point of an MTA container or lab process: `node services/mta/main.ts`.
 * Reads the config once, makes the lab users at first start, starts every listener, and
 * stops cleanly on SIGINT/SIGTERM. A bad variable or a taken port is one clear line.
 */
import { ConfigError } from '../../shared/config.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMtaConfig } from './config.ts';
import { startMta } from './server.ts';
import { ListenError } from './smtp/listener.ts';

async function main(): Promise<void> {
  const config = loadMtaConfig();
  await ensureLabUsers(config.MXLAB_USERS_DIR, config.MXLAB_PASSWORD);
  const mta = await startMta(config);
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`${config.MTA_NAME}: ${signal}, stopping\n`);
    mta.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`${config.MTA_NAME}: error while stopping: ${(error as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof ListenError) {
    process.stderr.write(`mta: ${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`mta: failed to start: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
