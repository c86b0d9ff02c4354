/**
 * The MTA's admin HTTP endpoint (MTA_ADMIN_LISTEN): health, the queue (list, flush,
 * retry, delete, the lab's queue clock), the fault plan and the DNS cache (`GET /dns`). The lab's web client,
 * `npm run queue` and `npm run chaos` use it. Answers are JSON; client mistakes are 4xx
 * with `{ error }`; internal errors are logged and 500. The guard (guard.ts: Host, Origin,
 * token) runs before every route; then one line per concern.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../../shared/log.ts';
import type { ChaosEngine } from '../../../shared/chaos/engine.ts';
import type { QueueClock } from '../queue/clock.ts';
import type { DnsCacheEntryView } from '../routing/dns-cache.ts';
import { adminGuard, type AdminGuardOptions } from '../../../shared/admin-guard.ts';
import { chaosRoutes } from '../../../shared/chaos/routes.ts';
import { dkimRoutes } from './dkim-routes.ts';
import type { DkimKeyStore } from '../auth/key-store.ts';
import { queueRoutes, type AdminQueue, type AdminRunner } from './queue-routes.ts';

export { entryView, type QueueEntryView } from './view.ts';
export type { AdminQueue, AdminRunner } from './queue-routes.ts';

/** What the admin needs from the DNS cache (services/mta/routing/dns-cache.ts matches it). */
export interface DnsCacheAdmin {
  entries(): DnsCacheEntryView[];
}

export interface AdminAppOptions {
  queue: AdminQueue;
  runner: AdminRunner;
  chaos?: ChaosEngine;
  dns?: DnsCacheAdmin;
  /** The DKIM keys (`/dkim`): rotation while the MTA runs. */
  dkim?: DkimKeyStore;
  /** The queue clock `POST /queue/advance` moves (lab only). */
  clock?: QueueClock;
  logger: Logger;
  /** Shown by /healthz. */
  name?: string;
  /** Host names, cross-site and token checks (shared/admin-guard.ts); the defaults hold without it. */
  guard?: AdminGuardOptions;
}

/** JSON body limit: a fault plan of MAX_RULES short rules fits. */
export const MAX_ADMIN_BODY = '64kb';

export function createAdminApp(options: AdminAppOptions): express.Express {
  const { queue, runner, chaos, dns, clock, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use(adminGuard({ ...options.guard, names: [options.name ?? '', ...(options.guard?.names ?? [])] }));
  app.use(express.json({ limit: MAX_ADMIN_BODY }));

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok', name: options.name, queued: queue.list().length, inFlight: runner.inFlight().length });
  });
  app.use('/queue', queueRoutes({ queue, runner, logger, ...(clock === undefined ? {} : { clock }) }));
  if (chaos !== undefined) app.use('/chaos', chaosRoutes({ chaos, logger }));
  if (options.dkim !== undefined) app.use('/dkim', dkimRoutes({ keys: options.dkim, logger }));
  // The MX/A/AAAA answers this MTA routes by, each with the seconds it is still kept, and the plan's DNS faults over them.
  app.get('/dns', (_req: Request, res: Response) => {
    if (dns === undefined) return void res.status(404).json({ error: 'no DNS cache on this MTA' });
    res.json({ entries: dns.entries(), ...(chaos === undefined ? {} : { faults: chaos.list(['dns']) }) });
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });

  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.type === 'entity.parse.failed' || error.status === 400) {
      res.status(400).json({ error: 'invalid JSON body' });
      return;
    }
    if (error.status === 413) {
      res.status(413).json({ error: 'body too large' });
      return;
    }
    logger.error({ event: 'admin.error', err: error }, 'admin request failed');
    res.status(500).json({ error: 'internal error' });
  });

  return app;
}
