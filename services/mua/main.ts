/** Entry point of the `mua` service: `node services/mua/main.ts`. */
import { createLogger } from '../../shared/log.ts';
import { loadMuaConfig } from './config.ts';
import { startMua } from './server.ts';

const config = loadMuaConfig();
const log = createLogger('mua', config.logLevel);
const mua = await startMua(config, { log });

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log.info({ signal }, 'stopping');
    mua.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  });
}
