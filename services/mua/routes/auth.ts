/**
 * Login, logout and the session probe. Login discovers the domain's servers (RFC 6186),
 * logs in to IMAP as the user and keeps that connection for the session.
 */
import { EventEmitter } from 'node:events';
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parseAddress } from '../../../shared/address.ts';
import { cookieHeader, PRELOGIN_COOKIE, readCookies, SESSION_COOKIE } from '../csrf.ts';
import { DiscoveryError } from '../discovery.ts';
import { AuthFailure } from '../gateway.ts';
import { MAX_SESSION_MS } from '../sessions.ts';
import { clientOf, currentSession, overTls, requireSession, sessionOf, UserError, type MuaContext } from './context.ts';

const loginSchema = z.object({ address: z.string().max(320), password: z.string().min(1).max(1024) });

export function authRoutes(ctx: MuaContext): Router {
  const router = Router();

  router.get('/session', (req: Request, res: Response) => {
    const session = sessionOf(ctx, req);
    if (session) {
      res.json({ loggedIn: true, address: session.address, csrf: ctx.signer.csrfToken(session.id) });
      return;
    }
    let pre = ctx.signer.idFromCookie(readCookies(req.headers.cookie).get(PRELOGIN_COOKIE));
    if (!pre) {
      pre = ctx.signer.newId();
      res.append('Set-Cookie', cookieHeader(PRELOGIN_COOKIE, ctx.signer.cookieValue(pre), undefined, overTls(req)));
    }
    res.json({ loggedIn: false, csrf: ctx.signer.csrfToken(pre) });
  });

  router.post('/login', async (req: Request, res: Response) => {
    const body = loginSchema.safeParse(req.body);
    if (!body.success) throw new UserError(400, 'Enter your mail address and your password.');
    const parsed = parseAddress(body.data.address);
    if (!parsed.ok) throw new UserError(400, `That is not a mail address (${parsed.reason}).`);
    const address = `${parsed.address.local}@${parsed.address.domain}`;
    const client = clientOf(req);
    // Counted before IMAP is asked, so that parallel guesses cannot all pass the check.
    const wait = ctx.limiter.begin(client, address);
    if (wait > 0) {
      res.set('Retry-After', String(Math.ceil(wait / 1000)));
      throw new UserError(429, `Too many failed logins. Try again in ${Math.ceil(wait / 60_000)} minute(s).`);
    }
    let servers;
    try {
      servers = await ctx.discovery.servers(parsed.address.domain);
    } catch (error) {
      ctx.limiter.forgive(client, address);
      if (error instanceof DiscoveryError) throw new UserError(400, `No mail service found for ${parsed.address.domain}.`);
      throw error;
    }
    const credentials = { user: address, password: body.data.password, client };
    let store;
    try {
      store = await ctx.gateway.open(servers.imap, credentials);
    } catch (error) {
      if (error instanceof AuthFailure) {
        ctx.log.info({ user: address, client }, 'login refused');
        res.status(401).json({ loggedIn: false, error: 'Wrong address or password.' });
        return;
      }
      ctx.limiter.forgive(client, address);
      ctx.log.warn({ err: error, user: address, imap: servers.imap }, 'IMAP server unreachable');
      throw new UserError(502, `The mail server of ${parsed.address.domain} (${servers.imap.servername}) cannot be reached right now.`);
    }
    ctx.limiter.succeed(client, address);
    const id = ctx.signer.newId();
    const relay = new EventEmitter();
    const now = Date.now();
    ctx.sessions.add({
      id, address, domain: parsed.address.domain, credentials, servers, store, relay,
      detach: store.onEvent((event) => relay.emit('event', event)),
      createdAt: now, lastSeen: now, streams: new Set(),
    });
    ctx.log.info({ session: id.slice(0, 8), user: address, imap: servers.imap, submission: servers.submission }, 'logged in');
    res.append('Set-Cookie', cookieHeader(SESSION_COOKIE, ctx.signer.cookieValue(id), MAX_SESSION_MS / 1000, overTls(req)));
    res.json({ loggedIn: true, address, csrf: ctx.signer.csrfToken(id) });
  });

  router.post('/logout', requireSession(ctx), async (req: Request, res: Response) => {
    await ctx.sessions.end(currentSession(res).id, 'logout');
    res.append('Set-Cookie', cookieHeader(SESSION_COOKIE, '', 0, overTls(req)));
    res.json({ loggedIn: false });
  });

  return router;
}
