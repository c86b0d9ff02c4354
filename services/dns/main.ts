/**
 * `node services/dns/main.ts`: the lab DNS for the no-Docker mode (compose runs CoreDNS on the
 * same zone files). Stops cleanly on SIGINT/SIGTERM; a taken port is a clear error.
 */
import { runAgent } from '../../shared/agent.ts';
import { createLogger } from '../../shared/log.ts';
import { addressModeOf, loadDnsConfig } from './config.ts';
import { startDnsServer } from './server.ts';

await runAgent('dns', async () => {
  const config = loadDnsConfig();
  const logger = createLogger('dns', config.LOG_LEVEL);
  return startDnsServer({ listen: config.DNS_LISTEN, zonesDir: config.DNS_ZONES_DIR, addressMode: addressModeOf(config), logger });
});
