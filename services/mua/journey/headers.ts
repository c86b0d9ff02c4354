/**
 * Reads the header block of a raw message (RFC 5322 §2.2): unfolds continuation lines
 * and keeps every field in its order, top to bottom, as trace fields must be read.
 */

export interface HeaderField {
  /** Lower-cased field name. */
  name: string;
  /** Unfolded value, trimmed. */
  value: string;
}

/** RFC 5322 §2.1.1: lines are at most 998 characters; a header block is bounded too. */
export const MAX_HEADER_BYTES = 256 * 1024;

export function parseHeaderBlock(raw: string | Buffer): HeaderField[] {
  const text = (typeof raw === 'string' ? raw : raw.subarray(0, MAX_HEADER_BYTES).toString('utf8')).slice(0, MAX_HEADER_BYTES);
  const end = text.search(/\r?\n\r?\n/u);
  const block = end === -1 ? text : text.slice(0, end);
  const fields: HeaderField[] = [];
  for (const line of block.split(/\r?\n/u)) {
    if (/^[ \t]/u.test(line)) {
      const last = fields[fields.length - 1];
      if (last) last.value = `${last.value} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    fields.push({ name: line.slice(0, colon).trim().toLowerCase(), value: line.slice(colon + 1).trim() });
  }
  for (const field of fields) field.value = field.value.replace(/\s+/gu, ' ').trim();
  return fields;
}
