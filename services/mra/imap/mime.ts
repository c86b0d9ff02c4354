/**
 * A MIME walker for FETCH (RFC 3501 §6.4.5, §7.4.2; RFC 2045/2046): splits a message
 * into parts by boundary without decoding anything, so every section is served byte for
 * byte as stored, and builds ENVELOPE and BODYSTRUCTURE from the raw headers.
 */
import { parseFields as readFields, unfold } from '../../../shared/message/headers.ts';
import addressparser from 'nodemailer/lib/addressparser';
import { str, type ImapValue } from './encode.ts';

/** Nested multiparts and messages beyond this are treated as opaque bodies. */
export const MAX_MIME_DEPTH = 32;

export interface MimePart {
  /** Header block including the blank line that ends it. */
  header: Buffer;
  body: Buffer;
  fields: Array<[string, string]>;
  type: string;
  subtype: string;
  params: Array<[string, string]>;
  children: MimePart[];
  /** The encapsulated message of a message/rfc822 part. */
  message: MimePart | undefined;
}

const CRLF = Buffer.from('\r\n');

function headerEnd(data: Buffer): number {
  if (data[0] === 13 && data[1] === 10) return 2;
  const end = data.indexOf('\r\n\r\n');
  return end === -1 ? data.length : end + 4;
}

/** Header fields unfolded (RFC 5322 §2.2.3, exactly, as ENVELOPE needs): [name as written, value]. */
export function parseFields(header: Buffer): Array<[string, string]> {
  return readFields(header).map((field) => [field.name, unfold(field.raw)]);
}

export function fieldValue(fields: ReadonlyArray<[string, string]>, name: string): string | undefined {
  const lower = name.toLowerCase();
  return fields.find(([key]) => key.toLowerCase() === lower)?.[1];
}

/** `type/subtype; a=b; c="d"` → parts, with quoted values unquoted. */
export function parseStructuredValue(value: string): { value: string; params: Array<[string, string]> } {
  const items: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < value.length; i += 1) {
    const char = value[i] ?? '';
    if (char === '"') quoted = !quoted;
    if (char === '\\' && quoted) {
      current += char + (value[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (char === ';' && !quoted) {
      items.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  items.push(current);
  const params: Array<[string, string]> = [];
  for (const item of items.slice(1)) {
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    let paramValue = item.slice(eq + 1).trim();
    if (paramValue.startsWith('"') && paramValue.endsWith('"') && paramValue.length >= 2) paramValue = paramValue.slice(1, -1).replace(/\\(.)/gu, '$1');
    params.push([item.slice(0, eq).trim().toLowerCase(), paramValue]);
  }
  return { value: (items[0] ?? '').trim(), params };
}

function splitMultipart(body: Buffer, boundary: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let start: number | undefined;
  let search = 0;
  while (search < body.length) {
    const at = body.indexOf(delimiter, search);
    if (at === -1) break;
    const atLineStart = at === 0 || (body[at - 1] === 10);
    const after = at + delimiter.length;
    if (!atLineStart) {
      search = after;
      continue;
    }
    const closing = body[after] === 45 && body[after + 1] === 45;
    if (start !== undefined) {
      const end = at >= 2 && body[at - 2] === 13 ? at - 2 : at - 1;
      parts.push(body.subarray(start, Math.max(start, end)));
    }
    if (closing) return parts;
    const lineEnd = body.indexOf(10, after);
    if (lineEnd === -1) return parts;
    start = lineEnd + 1;
    search = start;
  }
  if (start !== undefined) parts.push(body.subarray(start));
  return parts;
}

export function parseMime(data: Buffer, depth = 0, defaultType = 'text/plain'): MimePart {
  const end = headerEnd(data);
  const header = data.subarray(0, end);
  const body = data.subarray(end);
  const fields = parseFields(header);
  const contentType = parseStructuredValue(fieldValue(fields, 'content-type') ?? defaultType);
  let [type = 'text', subtype = 'plain'] = contentType.value.toLowerCase().split('/').map((item) => item.trim());
  let params = contentType.params;
  if (!/^[a-z0-9!#$&^_.+-]+$/u.test(type) || !/^[a-z0-9!#$&^_.+-]+$/u.test(subtype)) {
    [type, subtype, params] = ['text', 'plain', [['charset', 'us-ascii']]];
  }
  if (type === 'text' && !params.some(([key]) => key === 'charset')) params = [...params, ['charset', 'us-ascii']];
  const part: MimePart = { header, body, fields, type, subtype, params, children: [], message: undefined };
  if (depth >= MAX_MIME_DEPTH) return part;
  const boundary = params.find(([key]) => key === 'boundary')?.[1];
  if (type === 'multipart' && boundary !== undefined && boundary !== '') {
    const childDefault = subtype === 'digest' ? 'message/rfc822' : 'text/plain';
    part.children = splitMultipart(body, boundary).map((child) => parseMime(child, depth + 1, childDefault));
  } else if (type === 'message' && subtype === 'rfc822') {
    part.message = parseMime(body, depth + 1);
  }
  return part;
}

function countLines(body: Buffer): number {
  let lines = 0;
  for (let i = body.indexOf(10); i !== -1; i = body.indexOf(10, i + 1)) lines += 1;
  if (body.length > 0 && body[body.length - 1] !== 10) lines += 1;
  return lines;
}

export type ParsedAddress = { name?: string; address?: string; group?: Array<{ name?: string; address?: string }> };

/** addressparser makes a lone comment (`group: (foo) ;`) a name without an address: it is no address. */
export function onlyComment(value: string, name: string, address: string): boolean {
  return address.trim() === '' && name.trim() !== '' && value.includes(`(${name.trim()})`);
}

function addressList(value: string | undefined): ImapValue {
  if (value === undefined || value.trim() === '') return null;
  const result: ImapValue[] = [];
  // addressparser drops an obsolete source route (`<@a.org,@b.org:user@domain>`, RFC 5322
  // §4.4); ENVELOPE keeps it as the address's adl (RFC 3501 §7.4.2), as Dovecot does.
  const routes = new Map<string, string>();
  for (const match of value.matchAll(/<\s*(@[^<>:"]*?)\s*:\s*([^<>\s]+)\s*>/gu)) routes.set((match[2] ?? '').toLowerCase(), (match[1] ?? '').replace(/\s+/gu, ''));
  const push = (rawName: string, rawAddress: string) => {
    if (onlyComment(value, rawName, rawAddress)) return;
    let name = rawName.trim();
    let address = rawAddress.trim();
    // A bare word (`To: root`) is parsed as a display name; it is the mailbox.
    if (address === '' && name !== '' && !/\s/u.test(name)) [name, address] = ['', name];
    if (name === '' && address === '') return; // `<>`: no address (an empty list is NIL)
    const at = address.lastIndexOf('@');
    const mailbox = at === -1 ? address : address.slice(0, at);
    const host = at === -1 ? '' : address.slice(at + 1);
    // A NIL host marks group syntax (RFC 3501 §7.4.2), so a missing part gets Dovecot's placeholder.
    const route = routes.get(address.toLowerCase());
    result.push([name === '' ? null : str(name), route === undefined ? null : str(route), str(mailbox === '' ? 'MISSING_MAILBOX' : mailbox), str(host === '' ? 'MISSING_DOMAIN' : host)]);
  };
  for (const item of addressparser(value) as ParsedAddress[]) {
    if (item.group) {
      result.push([null, null, str(item.name ?? ''), null]);
      for (const member of item.group) push(member.name ?? '', member.address ?? '');
      result.push([null, null, null, null]);
    } else {
      push(item.name ?? '', item.address ?? '');
    }
  }
  return result.length === 0 ? null : result;
}

/** RFC 3501 §7.4.2 ENVELOPE. */
export function envelope(part: MimePart): ImapValue {
  const get = (name: string) => fieldValue(part.fields, name);
  const raw = (name: string): ImapValue => {
    const value = get(name);
    return value === undefined ? null : str(Buffer.from(value, 'latin1'));
  };
  const from = addressList(get('from'));
  const sender = addressList(get('sender'));
  const replyTo = addressList(get('reply-to'));
  return [
    raw('date'), raw('subject'), from, sender ?? from, replyTo ?? from,
    addressList(get('to')), addressList(get('cc')), addressList(get('bcc')), raw('in-reply-to'), raw('message-id'),
  ];
}

function paramList(params: ReadonlyArray<[string, string]>): ImapValue {
  return params.length === 0 ? null : params.flatMap(([key, value]) => [str(key), str(Buffer.from(value, 'latin1'))]);
}

function disposition(part: MimePart): ImapValue {
  const value = fieldValue(part.fields, 'content-disposition');
  if (value === undefined) return null;
  const parsed = parseStructuredValue(value);
  return [str(parsed.value.toLowerCase()), paramList(parsed.params)];
}

function optional(part: MimePart, name: string): ImapValue {
  const value = fieldValue(part.fields, name);
  return value === undefined ? null : str(Buffer.from(value, 'latin1'));
}

function emptyText(extended: boolean): ImapValue {
  const list: ImapValue[] = [str('text'), str('plain'), [str('charset'), str('us-ascii')], null, null, str('7bit'), 0, 0];
  if (extended) list.push(null, null, null, null);
  return list;
}

/** RFC 3501 §7.4.2 BODYSTRUCTURE (with extension data) or BODY (without). */
export function bodyStructure(part: MimePart, extended: boolean): ImapValue {
  if (part.type === 'multipart') {
    // A multipart without parts (no boundary line found) cannot be written as one (body-type-mpart
    // needs a body): one empty text/plain part stands in, as Dovecot writes it.
    const children = part.children.length > 0 ? part.children.map((child) => bodyStructure(child, extended)) : [emptyText(extended)];
    const list: ImapValue[] = [{ concat: children }, str(part.subtype)];
    if (extended) list.push(paramList(part.params), disposition(part), optional(part, 'content-language'), optional(part, 'content-location'));
    return list;
  }
  const encoding = (fieldValue(part.fields, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const list: ImapValue[] = [
    str(part.type), str(part.subtype), paramList(part.params), optional(part, 'content-id'), optional(part, 'content-description'),
    str(encoding), part.body.length,
  ];
  if (part.type === 'message' && part.subtype === 'rfc822' && part.message) {
    list.push(envelope(part.message), bodyStructure(part.message, extended), countLines(part.body));
  } else if (part.type === 'text') {
    list.push(countLines(part.body));
  }
  if (extended) list.push(optional(part, 'content-md5'), disposition(part), optional(part, 'content-language'), optional(part, 'content-location'));
  return list;
}

/** Follows a part path (`1.2`) as RFC 3501 §6.4.5 numbers parts; undefined when there is no such part. */
export function findPart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let current = root;
  for (const [i, n] of path.entries()) {
    if (i > 0 && current.message) current = current.message;
    if (current.type === 'multipart' && current.children.length > 0) {
      const child = current.children[n - 1];
      if (!child) return undefined;
      current = child;
    } else if (n !== 1) {
      return undefined;
    }
  }
  return current;
}

/** The header lines named (or, with `not`, not named), folded as written, then the blank line. */
export function headerFields(header: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((name) => name.toLowerCase()));
  const lines = header.toString('latin1').split('\r\n');
  const kept: string[] = [];
  let keep = false;
  for (const line of lines) {
    if (line === '') continue;
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (keep) kept.push(line);
      continue;
    }
    const colon = line.indexOf(':');
    const name = (colon === -1 ? line : line.slice(0, colon)).trim().toLowerCase();
    keep = wanted.has(name) !== not;
    if (keep) kept.push(line);
  }
  return Buffer.concat([Buffer.from(kept.map((line) => `${line}\r\n`).join(''), 'latin1'), CRLF]);
}
