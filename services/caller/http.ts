/**
 * The caller's HTTP API v1 (shared/caller-api.ts): `POST /v1/scan` streams the message
 * in and answers a ScanVerdict; `GET /healthz`; `GET /metrics`; its fault plan (DNS rules
 * only) at `/chaos/rules`, as on the MTAs' admin endpoints, and `GET /dns` with its faults,
 * behind the same checks as those (shared/admin-guard.ts: own names, no cross-site
 * request, JSON bodies, MXLAB_ADMIN_TOKEN when set). Client mistakes are 4xx
 * with a JSON `{ error }`; internal errors are logged and answered 500 without detail.
 * Scans are an internal hop (issue 19, item 4): only from CALLER_CLIENTS (403), with the
 * token when one is set (401), at most CALLER_MAX_SCANS at once and CALLER_MAX_WAITING_SCANS
 * waiting, their bodies unread, before 503.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { adminGuard } from '../../shared/admin-guard.ts';
import type { ChaosEngine } from '../../shared/chaos/engine.ts';
import { chaosRoutes } from '../../shared/chaos/routes.ts';
import { decodeScanRequest, SCAN_PATH, SCAN_REQUEST_HEADER, type ScanRequest } from '../../shared/caller-api.ts';
import type { ClientList } from '../../shared/client-list.ts';
import type { Logger } from '../../shared/log.ts';
import type { CallerMetrics } from './metrics.ts';
import type { Scanner } from './scanner.ts';
import type { AnswerCacheEntry } from './spam/lab-dns.ts';

export interface CallerAppOptions {
  scanner: Scanner;
  metrics: CallerMetrics;
  maxMessageBytes: number;
  access: { clients: ClientList; token: string | undefined };
  slots: ScanSlots;
  /** The fault plan, on `/chaos/rules` and `GET /dns`. */
  chaos?: ChaosEngine;
  /** The spam rules' shared DNS answers, shown by `GET /dns` beside the faults. */
  dnsAnswers?: () => AnswerCacheEntry[];
  /** Names a Host header may give for the fault plan endpoints, and their token. */
  admin?: { names: readonly string[]; token: string | undefined };
  logger: Logger;
}

/** JSON body limit of the fault plan endpoints (as the MTAs' admin endpoint). */
const MAX_ADMIN_BODY = '64kb';

/** A scan in progress holds a slot; beyond `running`, up to `waiting` wait in order, others are refused. */
export class ScanSlots {
  readonly #running: number;
  readonly #waiting: number;
  #busy = 0;
  readonly #queue: (() => void)[] = [];

  constructor(running: number, waiting: number) {
    this.#running = running;
    this.#waiting = waiting;
  }

  /** A release function, or undefined when the waiting line is full. */
  async acquire(): Promise<(() => void) | undefined> {
    if (this.#busy >= this.#running) {
      if (this.#queue.length >= this.#waiting) return undefined;
      await new Promise<void>((resolve) => this.#queue.push(resolve));
    } else {
      this.#busy++;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#queue.shift();
      if (next) next();
      else this.#busy--;
    };
  }

  describe(): string {
    return `${this.#running} scans running and ${this.#waiting} waiting (CALLER_MAX_SCANS, CALLER_MAX_WAITING_SCANS)`;
  }
}

class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export function createCallerApp(options: CallerAppOptions): express.Express {
  const { scanner, metrics, maxMessageBytes, access, slots, logger } = options;
  const app = express();
  app.disable('x-powered-by');

  app.post(SCAN_PATH, async (req: Request, res: Response, next: NextFunction) => {
    let release: (() => void) | undefined;
    try {
      checkAccess(req, res, access);
      const request = scanRequestOf(req);
      const declared = Number(req.get('content-length') ?? Number.NaN);
      if (declared > maxMessageBytes) throw tooLarge(maxMessageBytes);
      release = await slots.acquire();
      if (release === undefined) {
        res.set('retry-after', '1');
        throw new HttpError(503, `caller busy: ${slots.describe()} already; try again later`);
      }
      if (req.destroyed) throw new HttpError(400, 'the client went away while its scan waited');
      const raw = await readBody(req, maxMessageBytes);
      if (raw.length === 0) throw new HttpError(400, 'empty message body (send the message as message/rfc822)');
      const verdict = await scanner.scan(raw, request);
      metrics.recordVerdict(verdict);
      res.json(verdict);
    } catch (error) {
      next(error);
    } finally {
      release?.();
    }
  });

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok', engines: scanner.engines.map((engine) => ({ name: engine.name, kind: engine.kind })) });
  });

  app.get('/metrics', (_req: Request, res: Response) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });

  const { chaos } = options;
  if (chaos !== undefined) {
    const guard = adminGuard({ names: options.admin?.names ?? [], token: options.admin?.token });
    app.use(['/chaos', '/dns'], guard, express.json({ limit: MAX_ADMIN_BODY }));
    app.use('/chaos', chaosRoutes({ chaos, logger }));
    // The answers the spam rules share (kept ANSWER_CACHE_MS), and the plan's DNS faults in front of them.
    app.get('/dns', (_req: Request, res: Response) => void res.json({ entries: options.dnsAnswers?.() ?? [], faults: chaos.list(['dns']) }));
  }

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof HttpError ? error.status : (bodyParserStatus(error) ?? 500);
    metrics.recordRequestError(status);
    if (status === 500) logger.error({ err: error, path: req.path }, 'scan request failed');
    else logger.warn({ status, reason: (error as Error).message, path: req.path }, 'scan request refused');
    if (!req.complete) {
      // The rest of the body is not wanted: answer now, then close the connection.
      res.set('connection', 'close');
      req.resume();
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.status(status).json({ error: status === 500 ? 'internal error' : (error as Error).message });
  });

  return app;
}

/** express.json's own refusals of a fault plan body: not JSON (400), too large (413). */
function bodyParserStatus(error: unknown): number | undefined {
  const { type, status } = error as { type?: unknown; status?: unknown };
  return typeof type === 'string' && (status === 400 || status === 413) ? status : undefined;
}

function checkAccess(req: Request, res: Response, access: CallerAppOptions['access']): void {
  const client = req.socket.remoteAddress;
  if (!access.clients.allows(client)) {
    throw new HttpError(403, `scans are for the lab's MTAs only: ${client ?? 'this client'} is not in CALLER_CLIENTS`);
  }
  if (access.token === undefined) return;
  const given = /^Bearer (.+)$/u.exec(req.get('authorization') ?? '')?.[1];
  if (given === undefined || !sameSecret(given, access.token)) {
    res.set('www-authenticate', 'Bearer realm="mxlab-caller"');
    throw new HttpError(401, 'missing or wrong token (Authorization: Bearer, MTA_CALLER_TOKEN = CALLER_TOKEN)');
  }
}

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function scanRequestOf(req: Request): ScanRequest {
  const header = req.get(SCAN_REQUEST_HEADER);
  if (header === undefined || header.trim() === '') {
    throw new HttpError(400, `missing ${SCAN_REQUEST_HEADER} header (base64url JSON of the envelope and policy)`);
  }
  try {
    return decodeScanRequest(header.trim());
  } catch (error) {
    const issues = (error as { issues?: { path: PropertyKey[]; message: string }[] }).issues;
    const why = issues === undefined ? 'not base64url JSON' : issues.map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new HttpError(400, `bad ${SCAN_REQUEST_HEADER} header: ${why}`);
  }
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, `message larger than ${limit} bytes (CALLER_MAX_MESSAGE_BYTES)`);
}

/**
 * Reads the whole body, refusing it as soon as it passes `limit` bytes. Events rather
 * than `for await`: leaving an async iterator early would destroy the socket before the
 * 413 could be sent.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new HttpError(400, 'the connection closed before the message was complete'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}
