/**
 * The MTA's admin HTTP endpoint (MTA_ADMIN_LISTEN): health, the queue (list, flush,
 * delete), chaos rules and the DNS cache (`GET /dns`). The lab's web client and `npm run queue` use it. Answers are
 * JSON; client mistakes are 4xx with `{ error }`; internal errors are logged and 500.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from '../../../shared/log.ts';
import type { QueueEntry } from '../queue/types.ts';
import type { DnsCacheEntryView } from '../routing/dns-cache.ts';
import { isQueueId } from '../queue/types.ts';
import { adminGuard, type AdminGuardOptions } from './guard.ts';
import { entryView } from './view.ts';

export { entryView, type QueueEntryView } from './view.ts';

/** What the admin needs from the queue (the Spool). */
export interface AdminQueue {
  list(): QueueEntry[];
  has(queueId: string): boolean;
  remove(queueId: string, reason: 'deleted'): Promise<boolean>;
}

/** What the admin needs from the delivery runner. */
export interface AdminRunner {
  flush(queueId?: string): boolean;
  inFlight(): string[];
}

/** The chaos control of the SMTP listeners (services/mta/smtp/chaos.ts matches it). */
export interface ChaosAdmin {
  list(): unknown[];
  /** Validates and sets a rule; throws (a ZodError) when the rule is invalid. */
  set(rule: unknown): unknown;
  /** Clears one stage's rule, or all. */
  clear(stage?: string): void;
}

/** What the admin needs from the DNS cache (services/mta/routing/dns-cache.ts matches it). */
export interface DnsCacheAdmin {
  entries(): DnsCacheEntryView[];
}

export interface AdminAppOptions {
  queue: AdminQueue;
  runner: AdminRunner;
  chaos?: ChaosAdmin;
  dns?: DnsCacheAdmin;
  logger: Logger;
  /** Shown by /healthz. */
  name?: string;
  /** Host names, cross-site and token checks (guard.ts); the defaults hold without it. */
  guard?: AdminGuardOptions;
}

/** JSON body limit: chaos rules are a few fields. */
export const MAX_ADMIN_BODY = '16kb';


function queueIdParam(req: Request, res: Response, queue: AdminQueue): string | undefined {
  const id = String(req.params.id ?? '');
  if (!isQueueId(id) || !queue.has(id)) {
    res.status(404).json({ error: `no queued message ${id}` });
    return undefined;
  }
  return id;
}

export function createAdminApp(options: AdminAppOptions): express.Express {
  const { queue, runner, chaos, dns, logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.use(adminGuard({ ...options.guard, names: [options.name ?? '', ...(options.guard?.names ?? [])] }));
  app.use(express.json({ limit: MAX_ADMIN_BODY }));

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok', name: options.name, queued: queue.list().length, inFlight: runner.inFlight().length });
  });

  app.get('/queue', (_req: Request, res: Response) => {
    const inFlight = new Set(runner.inFlight());
    res.json({ messages: queue.list().map((entry) => entryView(entry, inFlight.has(entry.queueId))) });
  });

  app.post('/queue/flush', (_req: Request, res: Response) => {
    const count = queue.list().length;
    runner.flush();
    logger.info({ event: 'admin.flush', count }, 'queue flushed by admin');
    res.json({ flushed: count });
  });

  app.post('/queue/:id/flush', (req: Request, res: Response) => {
    const id = queueIdParam(req, res, queue);
    if (id === undefined) return;
    runner.flush(id);
    logger.info({ event: 'admin.flush', queueId: id }, 'message flushed by admin');
    res.json({ flushed: 1, queueId: id });
  });

  app.delete('/queue/:id', async (req: Request, res: Response, next: NextFunction) => {
    try {
      const id = queueIdParam(req, res, queue);
      if (id === undefined) return;
      await queue.remove(id, 'deleted');
      logger.info({ event: 'admin.delete', queueId: id }, 'message deleted by admin');
      res.json({ deleted: id });
    } catch (error) {
      next(error);
    }
  });

  // The MX/A/AAAA answers this MTA routes by, each with the seconds it is still kept.
  app.get('/dns', (_req: Request, res: Response) => {
    if (dns === undefined) return void res.status(404).json({ error: 'no DNS cache on this MTA' });
    res.json({ entries: dns.entries() });
  });

  app.get('/chaos', (_req: Request, res: Response) => {
    if (chaos === undefined) return void res.status(404).json({ error: 'chaos is not available on this MTA' });
    res.json({ rules: chaos.list() });
  });

  app.post('/chaos', (req: Request, res: Response) => {
    if (chaos === undefined) return void res.status(404).json({ error: 'chaos is not available on this MTA' });
    let rule: unknown;
    try {
      rule = chaos.set(req.body as unknown);
    } catch (error) {
      const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
      const detail = issues?.map((issue) => `${issue.path.map(String).join('.') || '(rule)'}: ${issue.message}`).join('; ');
      return void res.status(400).json({ error: `invalid chaos rule: ${detail ?? (error as Error).message}` });
    }
    logger.warn({ event: 'admin.chaos.set', rule }, 'chaos rule set');
    res.status(201).json({ rule });
  });

  app.delete('/chaos', (req: Request, res: Response) => {
    if (chaos === undefined) return void res.status(404).json({ error: 'chaos is not available on this MTA' });
    const stage = typeof req.query.stage === 'string' ? req.query.stage : undefined;
    chaos.clear(stage);
    logger.info({ event: 'admin.chaos.clear', stage: stage ?? 'all' }, 'chaos cleared');
    res.json({ rules: chaos.list() });
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
