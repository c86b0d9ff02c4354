/**
 * The caller's HTTP API v1 (shared/caller-api.ts): `POST /v1/scan` streams the message
 * in and answers a ScanVerdict; `GET /healthz`; `GET /metrics`. Client mistakes are 4xx
 * with a JSON `{ error }`; internal errors are logged and answered 500 without detail.
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { decodeScanRequest, SCAN_PATH, SCAN_REQUEST_HEADER, type ScanRequest } from '../../shared/caller-api.ts';
import type { Logger } from '../../shared/log.ts';
import type { CallerMetrics } from './metrics.ts';
import type { Scanner } from './scanner.ts';

export interface CallerAppOptions {
  scanner: Scanner;
  metrics: CallerMetrics;
  maxMessageBytes: number;
  logger: Logger;
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
  const { scanner, metrics, maxMessageBytes, logger } = options;
  const app = express();
  app.disable('x-powered-by');

  app.post(SCAN_PATH, async (req: Request, res: Response, next: NextFunction) => {
    try {
      const request = scanRequestOf(req);
      const declared = Number(req.get('content-length') ?? Number.NaN);
      if (declared > maxMessageBytes) throw tooLarge(maxMessageBytes);
      const raw = await readBody(req, maxMessageBytes);
      if (raw.length === 0) throw new HttpError(400, 'empty message body (send the message as message/rfc822)');
      const verdict = await scanner.scan(raw, request);
      metrics.recordVerdict(verdict);
      res.json(verdict);
    } catch (error) {
      next(error);
    }
  });

  app.get('/healthz', (_req: Request, res: Response) => {
    res.json({ status: 'ok', engines: scanner.engines.map((engine) => ({ name: engine.name, kind: engine.kind })) });
  });

  app.get('/metrics', (_req: Request, res: Response) => {
    res.type('text/plain; version=0.0.4').send(metrics.render());
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route ${req.method} ${req.path}` });
  });

  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = error instanceof HttpError ? error.status : 500;
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
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
