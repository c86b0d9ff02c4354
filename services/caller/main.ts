/**
 * Entry point of the caller container (`node services/caller/main.ts`): reads the config
 * once, serves the scan API until SIGINT or SIGTERM.
 */
import { runAgent } from '../../shared/agent.ts';
import { createLogger } from '../../shared/log.ts';
import { loadCallerConfig } from './config.ts';
import { startCaller } from './server.ts';

await runAgent('caller', async () => {
  const config = loadCallerConfig();
  return startCaller(config, { logger: createLogger('caller', config.logLevel) });
});
