/**
 * Reads the compose form (multipart/form-data) with busboy, within fixed limits, into
 * text fields and in-memory files.
 */
import busboy from 'busboy';
import type { Request } from 'express';
import type { OutgoingAttachment } from '../compose.ts';
import { UserError } from './context.ts';

/** The lab MTAs' SIZE limit is larger; a web form upload stays modest. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;
export const MAX_FILES = 20;
export const MAX_FIELDS = 50;
export const MAX_FIELD_BYTES = 1024 * 1024;

export interface ComposeForm {
  fields: Map<string, string>;
  files: OutgoingAttachment[];
}

export function readComposeForm(req: Request): Promise<ComposeForm> {
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
    const fields = new Map<string, string>();
    const files: OutgoingAttachment[] = [];
    let total = 0;
    let failed: Error | undefined;
    parser.on('field', (name, value) => fields.set(name, value));
    parser.on('file', (_name, stream, info) => {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => {
        total += chunk.length;
        chunks.push(chunk);
      });
      stream.on('limit', () => {
        failed = new UserError(413, `An attachment is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB.`);
      });
      stream.on('close', () => {
        if (info.filename) files.push({ filename: info.filename, contentType: info.mimeType || 'application/octet-stream', content: Buffer.concat(chunks) });
      });
    });
    parser.on('filesLimit', () => {
      failed = new UserError(413, `At most ${MAX_FILES} attachments.`);
    });
    parser.on('error', () => reject(new UserError(400, 'The message form could not be read.')));
    parser.on('close', () => {
      if (failed) reject(failed);
      else if (total > MAX_UPLOAD_BYTES) reject(new UserError(413, 'The attachments are too large together.'));
      else resolve({ fields, files });
    });
    req.pipe(parser);
  });
}
