/**
 * Session cookies and CSRF tokens, both derived from MUA_SESSION_SECRET with HMAC:
 * the cookie carries a random id and its signature; the CSRF token is a second HMAC of
 * that id, sent back by the page in the `X-CSRF-Token` header of every state-changing
 * request. A cookie alone (a cross-site form) therefore never suffices.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

export const SESSION_COOKIE = 'mua_session';
/** Before login: binds the login form's CSRF token to this browser. */
export const PRELOGIN_COOKIE = 'mua_pre';
export const CSRF_HEADER = 'x-csrf-token';

export class Signer {
  private readonly secret: string;

  constructor(secret: string) {
    this.secret = secret;
  }

  private mac(purpose: string, value: string): string {
    return createHmac('sha256', this.secret).update(`${purpose}\0${value}`).digest('base64url');
  }

  newId(): string {
    return randomBytes(24).toString('base64url');
  }

  /** `id.signature` */
  cookieValue(id: string): string {
    return `${id}.${this.mac('cookie', id)}`;
  }

  /** The id inside a cookie value, when its signature is right. */
  idFromCookie(value: string | undefined): string | undefined {
    if (!value) return undefined;
    const dot = value.lastIndexOf('.');
    if (dot <= 0) return undefined;
    const id = value.slice(0, dot);
    return safeEqual(value.slice(dot + 1), this.mac('cookie', id)) ? id : undefined;
  }

  csrfToken(id: string): string {
    return this.mac('csrf', id);
  }

  checkCsrf(id: string | undefined, token: string | undefined): boolean {
    return id !== undefined && token !== undefined && safeEqual(token, this.csrfToken(id));
  }
}

export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** RFC 6265 §5.2: a cookie that cannot be read is ignored, never an error. */
function decodeCookieValue(value: string): string | undefined {
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

export function readCookies(header: string | undefined): Map<string, string> {
  const cookies = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    const value = decodeCookieValue(part.slice(eq + 1).trim());
    if (value !== undefined && !cookies.has(name)) cookies.set(name, value);
  }
  return cookies;
}

export function cookieHeader(name: string, value: string, maxAgeSeconds: number | undefined, secure: boolean): string {
  const parts = [`${name}=${value}`, 'Path=/', 'HttpOnly', 'SameSite=Strict'];
  if (maxAgeSeconds !== undefined) parts.push(`Max-Age=${maxAgeSeconds}`);
  if (secure) parts.push('Secure');
  return parts.join('; ');
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Refuses every state-changing request whose X-CSRF-Token does not match the session
 * (or, before login, the pre-login cookie) with 403 and a message the page can show.
 */
export function csrfGuard(signer: Signer) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const cookies = readCookies(req.headers.cookie);
    const token = req.get(CSRF_HEADER);
    const session = signer.idFromCookie(cookies.get(SESSION_COOKIE));
    const prelogin = signer.idFromCookie(cookies.get(PRELOGIN_COOKIE));
    if (signer.checkCsrf(session, token) || signer.checkCsrf(prelogin, token)) {
      next();
      return;
    }
    res.status(403).json({ error: 'This request was refused: its security token (CSRF) is missing or wrong. Reload the page and try again.' });
  };
}
