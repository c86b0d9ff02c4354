/**
 * What every route needs, and the helpers they share: the session of a request, the
 * session's mail store (reopened when its connection dropped), parameter checks.
 */
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../../../shared/log.ts';
import type { Signer } from '../csrf.ts';
import { readCookies, SESSION_COOKIE } from '../csrf.ts';
import type { Discovery } from '../discovery.ts';
import type { ImapGateway, MailStore, Submitter } from '../gateway.ts';
import type { InlineLinks } from '../inline-parts.ts';
import type { LoginLimiter } from '../rate-limit.ts';
import type { Session, SessionStore } from '../sessions.ts';

export interface MuaContext {
  sessions: SessionStore;
  signer: Signer;
  discovery: Discovery;
  gateway: ImapGateway;
  submitter: Submitter;
  limiter: LoginLimiter;
  /** Tokens of open message frames, for their inline images. */
  inlineLinks: InlineLinks;
  log: Logger;
}

/** An error whose message is meant for the person, with its HTTP status. */
export class UserError extends Error {
  override readonly name = 'UserError';
  readonly status: number;
  readonly code: number | undefined;

  constructor(status: number, message: string, code?: number) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function sessionOf(ctx: MuaContext, req: Request): Session | undefined {
  return ctx.sessions.get(ctx.signer.idFromCookie(readCookies(req.headers.cookie).get(SESSION_COOKIE)));
}

/** 401 unless the request belongs to a live session; the session goes to res.locals. */
export function requireSession(ctx: MuaContext) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const session = sessionOf(ctx, req);
    if (!session) {
      res.status(401).json({ error: 'Your session has ended. Please log in again.' });
      return;
    }
    res.locals.session = session;
    next();
  };
}

/**
 * The browser's address: the socket's peer, or, when that peer is a trusted proxy
 * (MUA_TRUST_PROXY), the address it forwarded (X-Forwarded-For).
 */
export function clientOf(req: Request): string {
  return req.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * Cookies are `Secure` when the page came over TLS: the MUA's own socket, or a trusted
 * proxy in front that says so (X-Forwarded-Proto: https).
 */
export function overTls(req: Request): boolean {
  return req.secure;
}

export function currentSession(res: Response): Session {
  return res.locals.session as Session;
}

/** The session's store, reconnected first if the IMAP connection dropped. */
export async function storeOf(ctx: MuaContext, session: Session): Promise<MailStore> {
  if (session.store.alive()) return session.store;
  session.detach();
  session.store = await ctx.gateway.open(session.servers.imap, session.credentials);
  session.detach = session.store.onEvent((event) => session.relay.emit('event', event));
  ctx.log.info({ user: session.address }, 'IMAP connection reopened');
  return session.store;
}

/** RFC 3501 §9 mailbox names are bounded in practice; ours are short. */
const MAX_FOLDER_LENGTH = 255;

export function folderParam(value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_FOLDER_LENGTH || /[\u0000-\u001f]/u.test(value)) {
    throw new UserError(400, 'Unknown folder.');
  }
  return value;
}

export function uidParam(value: unknown): number {
  const uid = Number(value);
  if (!Number.isInteger(uid) || uid < 1 || uid > 0xffffffff) throw new UserError(400, 'Unknown message.');
  return uid;
}
