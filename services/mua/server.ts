/**
 * The web mail client (MUA): an express app serving the page and a JSON API, talking
 * IMAP (imapflow) and submission (nodemailer) to the servers that RFC 6186 discovery
 * finds in the lab DNS. `startMua` listens on every MUA_LISTEN address.
 */
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { listenHttp } from '../../shared/http-listen.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { parseClientList, type ClientList } from '../../shared/client-list.ts';
import type { MuaConfig } from './config.ts';
import { csrfGuard, Signer } from './csrf.ts';
import { Discovery, labResolver, type LabResolver } from './discovery.ts';
import type { ImapGateway, Submitter } from './gateway.ts';
import { imapflowGateway } from './imap-gateway.ts';
import { InlineLinks } from './inline-parts.ts';
import { LoginLimiter } from './rate-limit.ts';
import { authRoutes } from './routes/auth.ts';
import { UserError, type MuaContext } from './routes/context.ts';
import { eventRoutes } from './routes/events.ts';
import { inlinePartRoutes, mailRoutes } from './routes/mail.ts';
import { sendRoutes } from './routes/send.ts';
import { SessionStore } from './sessions.ts';
import { smtpSubmitter } from './submitter.ts';

export interface MuaDeps {
  resolver?: LabResolver;
  gateway?: ImapGateway;
  submitter?: Submitter;
  log?: Logger;
}

export interface MuaHandle {
  http: AddressInfo[];
  close(): Promise<void>;
}

const NO_PROXY = parseClientList([]) as ClientList;
const PUBLIC_DIR = join(import.meta.dirname, 'public');
const JSON_LIMIT = '64kb';

export const APP_CSP = [
  "default-src 'self'",
  "img-src 'self' data:",
  "style-src 'self'",
  "script-src 'self'",
  "connect-src 'self'",
  "frame-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(req: Request, res: Response, next: NextFunction): void {
  res.set('Content-Security-Policy', APP_CSP);
  res.set('X-Content-Type-Options', 'nosniff');
  res.set('X-Frame-Options', 'DENY');
  res.set('Referrer-Policy', 'no-referrer');
  res.set('Cross-Origin-Opener-Policy', 'same-origin');
  if (req.path.startsWith('/api/')) res.set('Cache-Control', 'no-store');
  next();
}

function labCa(tlsDir: string): () => Promise<string> {
  let cached: string | undefined;
  return async () => {
    cached ??= await readFile(join(tlsDir, 'ca.crt'), 'utf8');
    return cached;
  };
}

export function createMuaApp(ctx: MuaContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.use('/api', express.json({ limit: JSON_LIMIT }), csrfGuard(ctx.signer));
  app.use('/api', authRoutes(ctx), inlinePartRoutes(ctx), eventRoutes(ctx), sendRoutes(ctx), mailRoutes(ctx));
  app.use('/api', (_req: Request, res: Response) => {
    res.status(404).json({ error: 'Not found.' });
  });
  app.use(express.static(PUBLIC_DIR, { index: 'index.html', maxAge: 0 }));
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    void _next;
    if (error instanceof UserError) {
      // A refused upload is not read to its end: close the connection after the answer.
      if (!req.complete) res.set('Connection', 'close');
      res.status(error.status).json({ error: error.message, ...(error.code !== undefined ? { code: error.code } : {}) });
      return;
    }
    const status = (error as { status?: number }).status;
    if (status !== undefined && status >= 400 && status < 500) {
      res.status(status).json({ error: 'The request could not be read.' });
      return;
    }
    ctx.log.error({ err: error, path: req.path }, 'request failed');
    res.status(500).json({ error: 'Something went wrong talking to the mail server. Please try again.' });
  });
  return app;
}


export async function startMua(config: MuaConfig, deps: MuaDeps = {}): Promise<MuaHandle> {
  const log = deps.log ?? createLogger('mua', config.logLevel);
  const ca = labCa(config.tlsDir);
  const sessions = new SessionStore(log);
  const ctx: MuaContext = {
    sessions,
    signer: new Signer(config.sessionSecret),
    discovery: new Discovery(deps.resolver ?? labResolver(config.dnsServer), config.fallback),
    gateway: deps.gateway ?? imapflowGateway(ca, log),
    submitter: deps.submitter ?? smtpSubmitter(ca),
    limiter: new LoginLimiter(),
    inlineLinks: new InlineLinks(),
    log,
  };
  const app = createMuaApp(ctx);
  const proxies = config.trustProxy ?? NO_PROXY;
  app.set('trust proxy', (address: string) => proxies.allows(address));
  let listeners;
  try {
    listeners = await listenHttp('mua', app, config.listen);
  } catch (error) {
    await sessions.closeAll();
    throw error;
  }
  const http = listeners.addresses;
  log.info({ http }, 'web mail listening');
  return {
    http,
    async close() {
      await sessions.closeAll();
      await listeners.close();
    },
  };
}
