/** Entry point of the `mua` service: `node services/mua/main.ts`. */
import { runAgent } from '../../shared/agent.ts';
import { createLogger } from '../../shared/log.ts';
import { loadMuaConfig } from './config.ts';
import { startMua } from './server.ts';

await runAgent('mua', async () => {
  const config = loadMuaConfig();
  return startMua(config, { log: createLogger('mua', config.logLevel) });
});
