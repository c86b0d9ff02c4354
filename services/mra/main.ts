/** Entry point of the MRA container and of the no-Docker lab: `node services/mra/main.ts`. */
import { runAgent } from '../../shared/agent.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMraConfig } from './config.ts';
import { startMra } from './server.ts';

await runAgent('mra', async () => {
  const config = loadMraConfig();
  await ensureLabUsers(config.MXLAB_USERS_DIR);
  return startMra(config, { logger: createLogger(config.MRA_NAME, config.LOG_LEVEL) });
});
