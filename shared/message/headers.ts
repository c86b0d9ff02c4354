/**
 * The one reader of a message's header section (RFC 5322 §2.2), on the raw octets: where
 * the header ends (CRLF or bare LF line ends, a size cap), and its fields in order, top
 * first, each with its name as written, the lower-cased key, the text as written (folding
 * kept) and the value on one line (each fold as one space); `unfold` gives the exact
 * unfolding of §2.2.3 where it matters (IMAP ENVELOPE).
 * Octets are read as latin1, so every byte survives; `decodeWords` gives the text a
 * reader sees (RFC 2047 encoded words, raw UTF-8 of RFC 6532).
 */

/** A header section is not read past this many octets (RFC 5322 has no limit; ours). */
export const MAX_HEADER_BYTES = 256 * 1024;

export interface HeaderField {
  /** The name as written (`Message-ID`). */
  readonly name: string;
  /** The name lower-cased (`message-id`), for lookups. */
  readonly key: string;
  /** Everything after the colon as written, folding and line ends kept. */
  readonly raw: string;
  /** On one line: every line break and the white space after it as one space; trimmed. */
  readonly value: string;
}

export interface HeaderBounds {
  /** Octets of the header section, without the last field's line end and the blank line. */
  end: number;
  /** Where the body starts (after the blank line); the message's length when there is none. */
  body: number;
  /** A blank line was found within the cap. */
  complete: boolean;
}

/** Where the header section of `message` ends and its body starts (a latin1 string counts as its octets). */
export function headerBounds(message: Buffer | string, limit = MAX_HEADER_BYTES): HeaderBounds {
  const octet = typeof message === 'string' ? (at: number) => message.charCodeAt(at) : (at: number) => message[at];
  const lineEnd = (at: number) => (octet(at) === 0x0a ? 1 : octet(at) === 0x0d && octet(at + 1) === 0x0a ? 2 : 0);
  const first = lineEnd(0);
  if (first > 0) return { end: 0, body: first, complete: true };
  const cap = Math.min(message.length, limit);
  for (let lf = message.indexOf('\n'); lf !== -1 && lf < cap; lf = message.indexOf('\n', lf + 1)) {
    const blank = lineEnd(lf + 1);
    if (blank > 0) return { end: lf > 0 && octet(lf - 1) === 0x0d ? lf - 1 : lf, body: lf + 1 + blank, complete: true };
  }
  let end = cap;
  if (cap === message.length) {
    if (octet(end - 1) === 0x0a) end -= 1;
    if (octet(end - 1) === 0x0d && end < cap) end -= 1;
  }
  return { end, body: message.length, complete: false };
}

/** The header section's octets (see HeaderBounds.end). */
export function headerSection(message: Buffer, limit = MAX_HEADER_BYTES): Buffer {
  return message.subarray(0, headerBounds(message, limit).end);
}

/** Splits a header section (no body) into fields; lines without a colon are skipped. */
export function parseFields(section: Buffer | string): HeaderField[] {
  const text = typeof section === 'string' ? section : section.toString('latin1');
  const fields: HeaderField[] = [];
  let name = '';
  let raw = '';
  const flush = () => {
    if (name === '') return;
    fields.push({ name, key: name.toLowerCase(), raw, value: raw.replace(/[ \t]*\r?\n[ \t]*/gu, ' ').trim() });
    name = '';
  };
  for (let start = 0; start < text.length; ) {
    const lf = text.indexOf('\n', start);
    const next = lf === -1 ? text.length : lf + 1;
    const line = text.slice(start, next);
    start = next;
    const first = line.charCodeAt(0);
    if (first === 0x20 || first === 0x09) {
      if (name !== '') raw += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const candidate = line.slice(0, colon).trim();
    if (candidate === '') continue;
    name = candidate;
    raw = line.slice(colon + 1);
  }
  flush();
  return fields;
}

/** RFC 5322 §2.2.3 unfolding of a field's raw text: line breaks before white space removed, the white space kept; trimmed. */
export function unfold(raw: string): string {
  return raw.replace(/\r?\n(?=[ \t])/gu, '').replace(/\r?\n$/u, '').trim();
}

/** The fields of a whole message's header section. */
export function readHeader(message: Buffer, limit = MAX_HEADER_BYTES): HeaderField[] {
  return parseFields(headerSection(message, limit));
}

/** The first field's value by name (any case), or undefined. */
export function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  const key = name.toLowerCase();
  return fields.find((field) => field.key === key)?.value;
}

/** Every value of fields by that name, top first. */
export function fieldValues(fields: readonly HeaderField[], name: string): string[] {
  const key = name.toLowerCase();
  return fields.filter((field) => field.key === key).map((field) => field.value);
}
