/**
 * Entry point of an MDA container (`node services/mda/main.ts`): reads the config once,
 * makes the lab users at first start, serves LMTP until SIGINT or SIGTERM.
 */
import { runAgent } from '../../shared/agent.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMdaConfig } from './config.ts';
import { startMda } from './server.ts';

await runAgent('mda', async () => {
  const config = loadMdaConfig();
  const logger = createLogger(config.name, config.logLevel);
  await ensureLabUsers(config.usersDir);
  const mda = await startMda(config, { logger });
  logger.info({ lmtp: mda.lmtp.map((address) => `${address.address}:${address.port}`), domains: config.domains }, 'MDA ready');
  return mda;
});
