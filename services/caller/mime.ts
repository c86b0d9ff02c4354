/**
 * A small MIME walker (RFC 2045–2047): headers, multipart bodies, message/rfc822
 * parts, and base64 / quoted-printable decoding. It keeps every part's decoded bytes so
 * the engines can look inside them; it never throws on malformed mail — a broken part is
 * kept as its raw bytes. Header fields come from the one header reader (shared/message/).
 */
import { headerBounds, parseFields } from '../../shared/message/headers.ts';
import { decodeCharset, decodeQuotedPrintable } from '../../shared/message/words.ts';

/** Guards against hostile nesting (multipart inside message/rfc822 inside …). */
export const MAX_MIME_DEPTH = 16;
/** RFC 2046 does not bound the part count; we do, so a scan stays cheap. */
export const MAX_MIME_PARTS = 1000;

export interface MimeHeader {
  /** Lower-case field name. */
  name: string;
  /** Unfolded raw value (RFC 5322 §2.2.3), encoded words left as they are. */
  value: string;
}

export interface MimePart {
  headers: MimeHeader[];
  /** Lower-case `type/subtype`; `text/plain` when absent (RFC 2045 §5.2). */
  contentType: string;
  params: Record<string, string>;
  filename: string | undefined;
  /** Body after Content-Transfer-Encoding decoding (the part's raw bytes for multiparts). */
  body: Buffer;
  children: MimePart[];
}

export function headerValue(headers: MimeHeader[], name: string): string | undefined {
  return headers.find((header) => header.name === name)?.value;
}

export function headerValues(headers: MimeHeader[], name: string): string[] {
  return headers.filter((header) => header.name === name).map((header) => header.value);
}

/**
 * A limit the walk hit, named as ClamAV names what its own limits leave unscanned
 * (`Heuristics.Limits.Exceeded.<name>` with AlertExceedsMax): nesting past
 * MAX_MIME_DEPTH is MaxRecursion, parts past MAX_MIME_PARTS are MaxFiles.
 */
export type MimeLimit = 'MaxRecursion' | 'MaxFiles';

export interface MimeTree {
  root: MimePart;
  /** Limits hit: the parts beyond them were not parsed (or decoded), so not scanned. */
  exceeded: MimeLimit[];
}

interface WalkState {
  parts: number;
  exceeded: Set<MimeLimit>;
}

export function parseMime(raw: Buffer): MimePart {
  return parseMimeTree(raw).root;
}

/** The MIME tree and the limits its walk hit. */
export function parseMimeTree(raw: Buffer): MimeTree {
  const state: WalkState = { parts: 0, exceeded: new Set() };
  const root = parseEntity(raw.toString('latin1'), 0, state);
  return { root, exceeded: [...state.exceeded] };
}

/** Every part without children, depth first. */
export function leafParts(part: MimePart): MimePart[] {
  return part.children.length === 0 ? [part] : part.children.flatMap((child) => leafParts(child));
}

function parseEntity(text: string, depth: number, state: WalkState): MimePart {
  state.parts++;
  const { headers, body } = splitHeaders(text);
  const [contentType, params] = parseContentType(headerValue(headers, 'content-type'));
  const disposition = parseParams(headerValue(headers, 'content-disposition') ?? '');
  const filename = disposition.filename ?? params.name;
  const part: MimePart = { headers, contentType, params, filename: filename === undefined ? undefined : decodeEncodedWords(filename), body: Buffer.from(body, 'latin1'), children: [] };
  if (contentType.startsWith('multipart/') && params.boundary !== undefined) {
    const children = splitMultipart(body, params.boundary);
    if (children.length > 0 && depth >= MAX_MIME_DEPTH) {
      state.exceeded.add('MaxRecursion');
      return part;
    }
    for (const child of children) {
      if (state.parts >= MAX_MIME_PARTS) {
        state.exceeded.add('MaxFiles');
        break;
      }
      part.children.push(parseEntity(child, depth + 1, state));
    }
    return part;
  }
  const decoded = decodeTransfer(body, (headerValue(headers, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase());
  part.body = decoded;
  if (contentType === 'message/rfc822') {
    if (depth >= MAX_MIME_DEPTH) state.exceeded.add('MaxRecursion');
    else if (state.parts >= MAX_MIME_PARTS) state.exceeded.add('MaxFiles');
    else part.children.push(parseEntity(decoded.toString('latin1'), depth + 1, state));
  }
  return part;
}

/** The entity's header (from the one header reader, no size cap: the scan limits come first) and body. */
function splitHeaders(text: string): { headers: MimeHeader[]; body: string } {
  const bounds = headerBounds(text, Number.POSITIVE_INFINITY);
  const headers = parseFields(text.slice(0, bounds.end)).map((field) => ({ name: field.key, value: field.value }));
  return { headers, body: text.slice(bounds.body) };
}

function parseContentType(value: string | undefined): [string, Record<string, string>] {
  if (value === undefined) return ['text/plain', {}];
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  return [/^[^/\s]+\/[^/\s]+$/.test(type) ? type : 'text/plain', parseParams(value)];
}

/** `type; a=b; c="d; e"; f*=utf-8''%C3%A9` → parameters (RFC 2045 §5.1, RFC 2231 §4). */
export function parseParams(value: string): Record<string, string> {
  const params: Record<string, string> = {};
  const pattern = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
  for (const match of value.matchAll(pattern)) {
    const key = (match[1] ?? '').toLowerCase();
    const text = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : (match[3] ?? '').trim();
    const extended = /^([^*]+)\*$/.exec(key);
    if (extended?.[1] !== undefined) {
      const parts = /^([^']*)'[^']*'(.*)$/.exec(text);
      params[extended[1]] = parts === null ? text : decodeCharset(Buffer.from(percentDecode(parts[2] ?? ''), 'latin1'), parts[1] ?? 'utf-8');
    } else {
      params[key] = text;
    }
  }
  return params;
}

function percentDecode(text: string): string {
  return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Splits a multipart body at its boundary lines (RFC 2046 §5.1.1); preamble and epilogue
 * are dropped. At most MAX_MIME_PARTS + 1 parts: one more than the walk takes, so that
 * it can tell a full multipart from a cut one.
 */
export function splitMultipart(body: string, boundary: string): string[] {
  const delimiter = `--${boundary}`;
  const parts: string[] = [];
  let position = body.startsWith(delimiter) ? 0 : body.indexOf(`\n${delimiter}`);
  if (position === -1) return parts;
  if (body[position] === '\n') position++;
  for (let guard = 0; guard <= MAX_MIME_PARTS; guard++) {
    if (body.startsWith('--', position + delimiter.length)) break;
    const lineEnd = body.indexOf('\n', position);
    if (lineEnd === -1) break;
    const start = lineEnd + 1;
    const next = body.indexOf(`\n${delimiter}`, start - 1);
    if (next === -1) {
      parts.push(body.slice(start));
      break;
    }
    const end = body[next - 1] === '\r' ? next - 1 : next;
    parts.push(end > start ? body.slice(start, end) : '');
    position = next + 1;
  }
  return parts;
}

function decodeTransfer(body: string, encoding: string): Buffer {
  if (encoding === 'base64') return Buffer.from(body.replace(/[^A-Za-z0-9+/]/g, ''), 'base64');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body, false);
  return Buffer.from(body, 'latin1');
}

/** A text part's body as a string in its declared charset. */
export function partText(part: MimePart): string {
  return decodeCharset(part.body, part.params.charset);
}

/** RFC 2047 encoded words (`=?utf-8?B?...?=`); white space between adjacent words is dropped. */
export function decodeEncodedWords(value: string): string {
  const pattern = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  return value.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, '$1').replace(pattern, (_, charset: string, kind: string, text: string) => {
    const bytes =
      kind.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64')
        : decodeQuotedPrintable(text, true);
    return decodeCharset(bytes, charset.split('*')[0]);
  });
}
