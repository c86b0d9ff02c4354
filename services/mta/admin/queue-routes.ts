/**
 * The queue on the admin endpoint: list, flush (all or one), retry one, delete one, and
 * the lab's queue clock (`POST /queue/advance`, issue 16): moving it forward makes retry
 * times come due and bounces, with their DSN, every message past its deadline.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Logger } from '../../../shared/log.ts';
import { MAX_ADVANCE_S, type QueueClock } from '../queue/clock.ts';
import type { QueueEntry } from '../queue/types.ts';
import { isQueueId } from '../queue/types.ts';
import { entryView } from './view.ts';

/** What the admin needs from the queue (the Spool). */
export interface AdminQueue {
  list(): QueueEntry[];
  has(queueId: string): boolean;
  get(queueId: string): QueueEntry | undefined;
  remove(queueId: string, reason: 'deleted'): Promise<boolean>;
}

/** What the admin needs from the delivery runner. */
export interface AdminRunner {
  flush(queueId?: string): boolean;
  inFlight(): string[];
  expireOverdue(): Promise<string[]>;
  kick(): void;
}

export interface QueueRoutesOptions {
  queue: AdminQueue;
  runner: AdminRunner;
  /** Absent: no `POST /queue/advance`. */
  clock?: QueueClock;
  logger: Logger;
}

export const advanceSchema = z.strictObject({ seconds: z.number().int().min(1).max(MAX_ADVANCE_S) });

function queueIdParam(req: Request, res: Response, queue: AdminQueue): string | undefined {
  const id = String(req.params.id ?? '');
  if (!isQueueId(id) || !queue.has(id)) {
    res.status(404).json({ error: `no queued message ${id}` });
    return undefined;
  }
  return id;
}

export function queueRoutes({ queue, runner, clock, logger }: QueueRoutesOptions): Router {
  const routes = Router();

  routes.get('/', (_req: Request, res: Response) => {
    const inFlight = new Set(runner.inFlight());
    res.json({ messages: queue.list().map((entry) => entryView(entry, inFlight.has(entry.queueId))) });
  });

  routes.post('/flush', (_req: Request, res: Response) => {
    const count = queue.list().length;
    runner.flush();
    logger.info({ event: 'admin.flush', count }, 'queue flushed by admin');
    res.json({ flushed: count });
  });

  routes.post('/advance', async (req: Request, res: Response, next: NextFunction) => {
    try {
      if (clock === undefined) return void res.status(404).json({ error: 'this MTA has no queue clock' });
      const parsed = advanceSchema.safeParse(req.body);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`).join('; ');
        return void res.status(400).json({ error: `invalid advance: ${detail}` });
      }
      const offsetMs = clock.advance(parsed.data.seconds * 1000);
      const expired = await runner.expireOverdue();
      // What the new time makes due is tried now, not at the scheduler's next wake-up.
      runner.kick();
      logger.warn({ event: 'admin.queue-advance', seconds: parsed.data.seconds, offsetSeconds: offsetMs / 1000, expired }, `queue clock moved ${parsed.data.seconds} s forward (lab only)`);
      res.json({ advancedSeconds: parsed.data.seconds, offsetSeconds: offsetMs / 1000, now: new Date(clock.now()).toISOString(), expired });
    } catch (error) {
      next(error);
    }
  });

  routes.post('/:id/flush', (req: Request, res: Response) => {
    const id = queueIdParam(req, res, queue);
    if (id === undefined) return;
    runner.flush(id);
    logger.info({ event: 'admin.flush', queueId: id }, 'message flushed by admin');
    res.json({ flushed: 1, queueId: id });
  });

  routes.post('/:id/retry', (req: Request, res: Response) => {
    const id = queueIdParam(req, res, queue);
    if (id === undefined) return;
    runner.flush(id);
    logger.info({ event: 'admin.retry', queueId: id }, 'message retried now by admin');
    res.json({ retried: id });
  });

  routes.delete('/:id', async (req: Request, res: Response, next: NextFunction) => {
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

  return routes;
}
