/**
 * Who may use an MTA's admin endpoint (issue 19, item 4; DESIGN.md "Internal hops"): the
 * person at the host and the lab's own tools, never a web page.
 *
 * - DNS rebinding: a page on `evil.example` whose name later points at 127.0.0.1 sends
 *   `Host: evil.example`. Only the MTA's own names, `localhost` and address literals
 *   pass (a page that names an address is cross-origin to it and caught below).
 * - Cross-site requests: browsers say where a request comes from (`Sec-Fetch-Site`,
 *   `Origin`); anything but the endpoint's own origin, or a request typed in by hand
 *   (`none`), is refused. A body that is not JSON is refused too: an HTML form or a
 *   `no-cors` fetch can send text/plain, urlencoded or multipart, never application/json.
 * - MXLAB_ADMIN_TOKEN (off by default in the lab): when set, every request but
 *   `GET /healthz` needs `Authorization: Bearer <token>`; for shared machines, where
 *   other users' processes reach loopback too.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';

/** MXLAB_ADMIN_TOKEN: empty (the lab's default: no token), or 16+ printable characters. */
export const adminTokenField = z
  .string()
  .default('')
  .refine((value) => value === '' || /^[!-~]{16,}$/u.test(value), 'at least 16 printable characters, no spaces');

export interface AdminGuardOptions {
  /** The MTA's own host names (agent name, MTA_HOSTNAME, TLS names); compared without case. */
  names?: readonly string[];
  /** MXLAB_ADMIN_TOKEN; undefined or empty: no token needed. */
  token?: string | undefined;
}

/** Methods that change nothing; everything else must come with JSON or no body. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** `Sec-Fetch-Site` values of a request the endpoint's own page or a person made. */
const SAME_SITE_FETCH = new Set(['same-origin', 'none']);

/** The host name of a Host header value (`name:port`, `[v6]:port`), lower-cased. */
export function hostOf(value: string): string {
  const trimmed = value.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/u.exec(trimmed);
  if (bracketed) return bracketed[1] ?? '';
  const colon = trimmed.lastIndexOf(':');
  const host = colon !== -1 && trimmed.indexOf(':') === colon ? trimmed.slice(0, colon) : trimmed;
  return host.replace(/\.$/u, '');
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function refuse(res: Response, status: number, error: string): void {
  res.status(status).json({ error });
}

export function adminGuard(options: AdminGuardOptions = {}): RequestHandler {
  const names = new Set(['localhost', ...(options.names ?? []).map((name) => name.toLowerCase().replace(/\.$/u, ''))]);
  const token = options.token ? digest(options.token) : undefined;
  const ownHost = (host: string) => names.has(host) || isIP(host) !== 0;

  return (req: Request, res: Response, next: NextFunction) => {
    const hostHeader = req.headers.host;
    if (hostHeader !== undefined && !ownHost(hostOf(hostHeader))) {
      return refuse(res, 403, `Host ${JSON.stringify(hostHeader)} is not this MTA: use its address or one of its names`);
    }
    const fetchSite = req.headers['sec-fetch-site'];
    if (typeof fetchSite === 'string' && !SAME_SITE_FETCH.has(fetchSite.toLowerCase())) {
      return refuse(res, 403, `cross-site request refused (Sec-Fetch-Site: ${fetchSite})`);
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !(hostHeader !== undefined && sameOrigin(origin, hostHeader))) {
      return refuse(res, 403, `cross-site request refused (Origin: ${origin})`);
    }
    if (!SAFE_METHODS.has(req.method) && hasBody(req) && !req.is('application/json')) {
      return refuse(res, 415, 'admin requests take JSON bodies only (Content-Type: application/json)');
    }
    if (token && !(req.method === 'GET' && req.path === '/healthz')) {
      const given = /^Bearer\s+(\S+)$/iu.exec(req.headers.authorization ?? '')?.[1];
      if (given === undefined || !timingSafeEqual(digest(given), token)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="mxlab MTA admin"');
        return refuse(res, 401, 'this MTA admin endpoint needs its token (Authorization: Bearer $MXLAB_ADMIN_TOKEN)');
      }
    }
    next();
  };
}

function sameOrigin(origin: string, hostHeader: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.host === new URL(`http://${hostHeader}`).host;
  } catch {
    return false;
  }
}

function hasBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
