/**
 * Reads the compose form (multipart/form-data) with busboy into text fields and in-memory
 * files, never holding more than MAX_FORM_BYTES of one request: a declared
 * Content-Length over the limit is refused before any byte is read, and a body that
 * grows past it (chunked, or lying about its length) is cut off where it crosses it.
 * Either way the answer is 413 with a sentence the compose dialog shows.
 */
import { Transform, type TransformCallback } from 'node:stream';
import busboy from 'busboy';
import type { Request } from 'express';
import type { OutgoingAttachment } from '../compose.ts';
import { UserError } from './context.ts';

/** All attachments of one message together; the lab MTAs' SIZE limit is larger. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
export const MAX_FILES = 20;
export const MAX_FIELDS = 50;
/** One text field (the message body is the largest). */
export const MAX_FIELD_BYTES = 1024 * 1024;
/** The whole request: attachments, text fields and multipart framing. */
export const MAX_FORM_BYTES = MAX_UPLOAD_BYTES + 2 * MAX_FIELD_BYTES;

const MIB = 1024 * 1024;
export const TOO_LARGE_MESSAGE = `The attachments are too large: at most ${MAX_UPLOAD_BYTES / MIB} MB together.`;

export interface ComposeForm {
  fields: Map<string, string>;
  files: OutgoingAttachment[];
}

/** Passes bytes through until `limit` have gone by, then fails with 413. */
class ByteLimit extends Transform {
  private seen = 0;
  private readonly limit: number;

  constructor(limit: number) {
    super();
    this.limit = limit;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) done(new UserError(413, TOO_LARGE_MESSAGE));
    else done(null, chunk);
  }
}

/** 413 before reading when the request says it is larger than the form may be. */
export function declaredTooLarge(req: Request): boolean {
  const length = Number(req.headers['content-length']);
  return Number.isFinite(length) && length > MAX_FORM_BYTES;
}

export function readComposeForm(req: Request): Promise<ComposeForm> {
  if (declaredTooLarge(req)) return Promise.reject(new UserError(413, TOO_LARGE_MESSAGE));
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: { fileSize: MAX_UPLOAD_BYTES, files: MAX_FILES, fields: MAX_FIELDS, fieldSize: MAX_FIELD_BYTES },
      });
    } catch {
      reject(new UserError(400, 'The message form could not be read.'));
      return;
    }
    const limit = new ByteLimit(MAX_FORM_BYTES);
    const fields = new Map<string, string>();
    const files: OutgoingAttachment[] = [];
    let total = 0;
    let settled = false;
    const fail = (error: UserError) => {
      if (settled) return;
      settled = true;
      req.unpipe(limit);
      limit.unpipe(parser);
      parser.removeAllListeners('close');
      fields.clear();
      files.length = 0;
      reject(error);
    };
    parser.on('field', (name, _value, info) => {
      if (info.valueTruncated) fail(new UserError(413, `A text field is longer than ${MAX_FIELD_BYTES / MIB} MB.`));
      else fields.set(name, _value);
    });
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > MAX_UPLOAD_BYTES) {
          stream.resume();
          fail(new UserError(413, TOO_LARGE_MESSAGE));
          return;
        }
        chunks.push(chunk);
      });
      stream.on('limit', () => fail(new UserError(413, TOO_LARGE_MESSAGE)));
      stream.on('close', () => {
        if (!settled && info.filename) files.push({ filename: info.filename, contentType: info.mimeType || 'application/octet-stream', content: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => fail(new UserError(413, `At most ${MAX_FILES} attachments.`)));
    parser.on('fieldsLimit', () => fail(new UserError(413, `At most ${MAX_FIELDS} form fields.`)));
    parser.on('error', () => fail(new UserError(400, 'The message form could not be read.')));
    limit.on('error', (error: UserError) => fail(error));
    parser.on('close', () => {
      if (settled) return;
      settled = true;
      resolve({ fields, files });
    });
    req.pipe(limit).pipe(parser);
  });
}
