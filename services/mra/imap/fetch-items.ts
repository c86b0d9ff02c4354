/**
 * FETCH data items (RFC 3501 §6.4.5): parsing `BODY.PEEK[1.2.HEADER.FIELDS (From)]<0.100>`
 * and friends, and cutting the requested section out of a message.
 */
import { ArgumentError } from './command.ts';
import { findPart, headerFields, type MimePart } from './mime.ts';
import { TokenStream, tokenText, type Token } from './parser.ts';

export const SIMPLE_ITEMS = ['UID', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT'] as const;
export type SimpleItem = (typeof SIMPLE_ITEMS)[number];

export type SectionSpec = '' | 'HEADER' | 'TEXT' | 'MIME' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT';

export interface SectionItem {
  peek: boolean;
  path: number[];
  spec: SectionSpec;
  fields: string[];
  partial: { start: number; length: number | undefined } | undefined;
}

export type FetchItem = { kind: 'simple'; name: SimpleItem } | ({ kind: 'section' } & SectionItem);

const MACROS: Record<string, SimpleItem[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};

const SECTION = /^(BODY|BODY\.PEEK)\[(.*)\](?:<(\d+)(?:\.(\d+))?>)?$/isu;

function parseSection(peek: boolean, inside: string, start?: string, length?: string): SectionItem {
  const pathMatch = /^(\d+(?:\.\d+)*)(?:\.|$)/u.exec(inside);
  const path = pathMatch ? (pathMatch[1] ?? '').split('.').map(Number) : [];
  if (path.some((n) => n < 1 || !Number.isSafeInteger(n))) throw new ArgumentError('part numbers start at 1');
  const rest = pathMatch ? inside.slice(pathMatch[0].length) : inside;
  const fieldsMatch = /^(HEADER\.FIELDS(?:\.NOT)?) (\(.*\))$/isu.exec(rest);
  let spec: SectionSpec;
  let fields: string[] = [];
  if (fieldsMatch) {
    spec = (fieldsMatch[1] ?? '').toUpperCase() as SectionSpec;
    const list = new TokenStream(Buffer.from(fieldsMatch[2] ?? '', 'latin1')).readToken();
    if (list.type !== 'list' || list.items.length === 0) throw new ArgumentError('HEADER.FIELDS needs a list of field names');
    fields = list.items.map((item: Token) => {
      const name = tokenText(item);
      if (name === undefined || !/^[\x21-\x39\x3b-\x7e]+$/u.test(name)) throw new ArgumentError('invalid header field name');
      return name;
    });
  } else {
    const upper = rest.toUpperCase();
    if (!['', 'HEADER', 'TEXT', 'MIME'].includes(upper)) throw new ArgumentError(`invalid section ${inside.slice(0, 40)}`);
    if (upper === 'MIME' && path.length === 0) throw new ArgumentError('MIME needs a part number');
    spec = upper as SectionSpec;
  }
  const partial = start === undefined ? undefined : { start: Number(start), length: length === undefined ? undefined : Number(length) };
  if (partial && partial.length === 0) throw new ArgumentError('partial length must be positive');
  return { peek, path, spec, fields, partial };
}

export function parseFetchItem(text: string): FetchItem {
  const upper = text.toUpperCase();
  if ((SIMPLE_ITEMS as readonly string[]).includes(upper)) return { kind: 'simple', name: upper as SimpleItem };
  const match = SECTION.exec(text);
  if (!match) throw new ArgumentError(`unknown FETCH item ${text.slice(0, 40)}`);
  return { kind: 'section', ...parseSection((match[1] ?? '').toUpperCase() === 'BODY.PEEK', match[2] ?? '', match[3], match[4]) };
}

/** The item list of FETCH: a macro, one item, or a parenthesized list of items. */
export function parseFetchItems(token: Token | undefined): FetchItem[] {
  if (token?.type === 'atom') {
    const macro = MACROS[token.value.toUpperCase()];
    if (macro) return macro.map((name) => ({ kind: 'simple', name }));
    return [parseFetchItem(token.value)];
  }
  if (token?.type === 'list' && token.items.length > 0) {
    return token.items.map((item) => {
      if (item.type !== 'atom') throw new ArgumentError('FETCH items must be atoms');
      return parseFetchItem(item.value);
    });
  }
  throw new ArgumentError('missing FETCH items');
}

/** Response label: `BODY[1.HEADER.FIELDS (From)]<0>` (partial shows only its origin, RFC 3501 §7.4.2). */
export function sectionLabel(item: SectionItem): string {
  let inside = item.path.join('.');
  if (item.spec !== '') inside += (inside === '' ? '' : '.') + item.spec;
  if (item.fields.length > 0) inside += ` (${item.fields.join(' ')})`;
  return `BODY[${inside}]${item.partial ? `<${item.partial.start}>` : ''}`;
}

/** The octets of a section, before any partial range; undefined when the part does not exist. */
export function sectionData(root: MimePart, whole: Buffer, item: SectionItem): Buffer | undefined {
  if (item.path.length === 0 && item.spec === '') return whole;
  const part = item.path.length === 0 ? root : findPart(root, item.path);
  if (!part) return undefined;
  if (item.spec === 'MIME') return part.header;
  if (item.spec === '') return part.body;
  // HEADER and TEXT of a part number address its encapsulated message (message/rfc822).
  const message = item.path.length === 0 ? root : part.message;
  if (!message) return undefined;
  if (item.spec === 'HEADER') return message.header;
  if (item.spec === 'TEXT') return message.body;
  return headerFields(message.header, item.fields, item.spec === 'HEADER.FIELDS.NOT');
}

export function applyPartial(data: Buffer, partial: SectionItem['partial']): Buffer {
  if (!partial) return data;
  if (partial.start >= data.length) return Buffer.alloc(0);
  return data.subarray(partial.start, partial.length === undefined ? undefined : partial.start + partial.length);
}
