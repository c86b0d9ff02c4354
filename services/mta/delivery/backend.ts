/**
 * The MTA's back half in one call, for server.ts: the delivery runner on the spool
 * (resolver = the lab DNS at MTA_DNS_SERVER, outbound STARTTLS verified against the lab
 * CA) and the admin endpoint on MTA_ADMIN_LISTEN.
 */
import type { Logger } from '../../../shared/log.ts';
import { readLabCa } from '../../../shared/tls.ts';
import { createAdminApp, type ChaosAdmin } from '../admin/app.ts';
import { listenAdmin, type AdminServerHandle } from '../admin/listen.ts';
import type { MtaConfig } from '../config.ts';
import type { Spool } from '../queue/spool.ts';
import { createLabResolver, type MxResolver } from '../routing/resolver.ts';
import { startDelivery, type DeliveryRunner } from './runner.ts';

export interface MtaBackendOptions {
  config: MtaConfig;
  queue: Spool;
  logger: Logger;
  /** The listeners' chaos control, served on /chaos. */
  chaos?: ChaosAdmin;
  /** Default: the lab DNS at MTA_DNS_SERVER. */
  resolver?: MxResolver;
  /** Tests: port of an exchange address (default MTA_OUTBOUND_PORT). */
  portFor?: (address: string, exchange: string) => number;
}

export interface MtaBackend {
  runner: DeliveryRunner;
  /** Absent when MTA_ADMIN_LISTEN is empty. */
  admin?: AdminServerHandle;
  close(): Promise<void>;
}

export async function startMtaBackend(options: MtaBackendOptions): Promise<MtaBackend> {
  const { config, queue, logger } = options;
  const tlsCa = await readLabCa(config.MXLAB_TLS_DIR).catch(() => undefined);
  if (tlsCa === undefined) logger.warn({ tlsDir: config.MXLAB_TLS_DIR }, 'no lab CA: outbound STARTTLS will not verify peers');
  const runner = startDelivery({
    queue,
    config,
    resolver: options.resolver ?? createLabResolver(config.MTA_DNS_SERVER, config.MTA_DNS_TIMEOUT_MS),
    hostname: config.MTA_HOSTNAME,
    localDomains: config.MTA_LOCAL_DOMAINS,
    relayDomains: config.MTA_RELAY_DOMAINS,
    lmtp: config.MTA_LMTP,
    logger: logger.child({ component: 'delivery' }),
    ...(tlsCa === undefined ? {} : { tlsCa }),
    ...(options.portFor === undefined ? {} : { portFor: options.portFor }),
  });
  let admin: AdminServerHandle | undefined;
  if (config.MTA_ADMIN_LISTEN.length > 0) {
    const app = createAdminApp({
      queue,
      runner,
      logger: logger.child({ component: 'admin' }),
      name: config.MTA_NAME,
      ...(options.chaos === undefined ? {} : { chaos: options.chaos }),
    });
    try {
      admin = await listenAdmin(app, config.MTA_ADMIN_LISTEN);
    } catch (error) {
      await runner.close();
      throw error;
    }
  }
  return {
    runner,
    ...(admin === undefined ? {} : { admin }),
    async close() {
      await admin?.close();
      await runner.close();
    },
  };
}
