/**
 * The header block of a raw message as the journey reads it (RFC 5322 §2.2): every
 * field in its order, top to bottom, as trace fields must be read, from the one header
 * reader (shared/message/headers.ts), with the value as UTF-8 text on one line.
 */
import { readHeader } from '../../../shared/message/headers.ts';

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value, trimmed. */
  value: string;
}

export function parseHeaderBlock(raw: string | Buffer): HeaderField[] {
  const message = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return readHeader(message).map((field) => ({
    name: field.key,
    value: Buffer.from(field.value, 'latin1').toString('utf8').replace(/\s+/gu, ' ').trim(),
  }));
}
