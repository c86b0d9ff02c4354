/**
 * Live mail: the session's IMAP IDLE notifications as Server-Sent Events
 * (`event: mail`), with a comment line every HEARTBEAT_MS so proxies keep the stream open.
 */
import { Router, type Request, type Response } from 'express';
import type { StoreEvent } from '../gateway.ts';
import { currentSession, requireSession, storeOf, type MuaContext } from './context.ts';

const HEARTBEAT_MS = 20_000;
/** Streams per session; a person rarely has more tabs than this open. */
const MAX_STREAMS_PER_SESSION = 8;

export function eventRoutes(ctx: MuaContext): Router {
  const router = Router();
  router.get('/events', requireSession(ctx), (req: Request, res: Response) => {
    const session = currentSession(res);
    if (session.streams.size >= MAX_STREAMS_PER_SESSION) {
      res.status(429).json({ error: 'Too many open windows for this session.' });
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write(`retry: 3000\nevent: ready\ndata: {}\n\n`);
    const listener = (event: StoreEvent) => res.write(`event: mail\ndata: ${JSON.stringify(event)}\n\n`);
    const heartbeat = setInterval(() => {
      session.lastSeen = Date.now();
      res.write(': keep-alive\n\n');
      // Live mail needs an IMAP connection in IDLE: bring a dropped one back.
      if (!session.store.alive()) {
        storeOf(ctx, session).catch((error: unknown) => ctx.log.warn({ err: error, user: session.address }, 'IMAP reconnect failed'));
      }
    }, HEARTBEAT_MS);
    const stream = { end: () => res.end() };
    session.relay.on('event', listener);
    session.streams.add(stream);
    req.on('close', () => {
      clearInterval(heartbeat);
      session.relay.off('event', listener);
      session.streams.delete(stream);
    });
  });
  return router;
}
