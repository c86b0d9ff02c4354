/**
 * Entry point of an MTA container or lab process: `node services/mta/main.ts`.
 * Reads the config once, makes the lab users at first start, starts every listener, and
 * stops cleanly on SIGINT/SIGTERM. A bad variable or a taken port is one clear line.
 */
import { runAgent } from '../../shared/agent.ts';
import { ensureLabUsers } from '../../shared/users.ts';
import { loadMtaConfig } from './config.ts';
import { startMta } from './server.ts';

await runAgent('mta', async () => {
  const config = loadMtaConfig();
  await ensureLabUsers(config.MXLAB_USERS_DIR, config.MXLAB_PASSWORD);
  return startMta(config);
});
