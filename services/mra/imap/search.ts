/**
 * SEARCH keys (RFC 3501 §6.4.4, RFC 7162 §3.1.5 MODSEQ): parsed into a tree, evaluated per
 * message. Dates compare by day in UTC; strings match case-insensitively as substrings of
 * the decoded text.
 */
import type { MessageRecord } from '../store/types.ts';
import { atom, number, sequenceSet, astring } from './args.ts';
import { ArgumentError } from './command.ts';
import { dayOf, parseSearchDate, sentDay } from './dates.ts';
import { bodyText, decodeWords } from './decode.ts';
import addressparser from 'nodemailer/lib/addressparser';
import { fieldValue, onlyComment, parseMime, type MimePart, type ParsedAddress } from './mime.ts';
import type { Token } from './parser.ts';
import { inSequenceSet, type SequenceRange } from './sequence.ts';

export type SearchKey =
  | { op: 'and'; keys: SearchKey[] }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'not'; key: SearchKey }
  | { op: 'all' }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'recent' | 'new' | 'old' }
  | { op: 'seq' | 'uid'; ranges: SequenceRange[] }
  | { op: 'date'; sent: boolean; cmp: 'before' | 'on' | 'since'; day: number }
  | { op: 'size'; larger: boolean; n: number }
  | { op: 'header'; name: string; value: string }
  /** FROM, TO, CC, BCC: matched against the parsed addresses, not the raw field. */
  | { op: 'address'; name: string; value: string }
  | { op: 'body' | 'text'; value: string }
  | { op: 'modseq'; n: number };

export interface SearchQuery {
  root: SearchKey;
  usesModseq: boolean;
}

/** Nesting of OR/NOT/lists in one SEARCH. */
const MAX_SEARCH_DEPTH = 32;
const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], DELETED: ['\\Deleted', true], DRAFT: ['\\Draft', true], FLAGGED: ['\\Flagged', true], SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false], UNDELETED: ['\\Deleted', false], UNDRAFT: ['\\Draft', false], UNFLAGGED: ['\\Flagged', false], UNSEEN: ['\\Seen', false],
};
const ADDRESS_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC']);
const DATE_KEYS: Record<string, [boolean, 'before' | 'on' | 'since']> = {
  BEFORE: [false, 'before'], ON: [false, 'on'], SINCE: [false, 'since'], SENTBEFORE: [true, 'before'], SENTON: [true, 'on'], SENTSINCE: [true, 'since'],
};

class KeyReader {
  pos = 0;
  usesModseq = false;
  private readonly tokens: readonly Token[];
  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  private next(what: string): Token {
    const token = this.tokens[this.pos];
    if (!token) throw new ArgumentError(`missing ${what}`);
    this.pos += 1;
    return token;
  }

  read(depth: number): SearchKey {
    if (depth > MAX_SEARCH_DEPTH) throw new ArgumentError('search nested too deep');
    const token = this.next('search key');
    if (token.type === 'list') {
      const inner = new KeyReader(token.items);
      const keys: SearchKey[] = [];
      while (inner.pos < token.items.length) keys.push(inner.read(depth + 1));
      if (keys.length === 0) throw new ArgumentError('empty search list');
      this.usesModseq ||= inner.usesModseq;
      return { op: 'and', keys };
    }
    const word = atom(token, 'search key');
    const upper = word.toUpperCase();
    if (/^[\d*]/u.test(word)) return { op: 'seq', ranges: sequenceSet(token) };
    const flag = FLAG_KEYS[upper];
    if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
    const date = DATE_KEYS[upper];
    if (date) {
      const day = parseSearchDate(astring(this.next('date'), 'date'));
      if (day === undefined) throw new ArgumentError('invalid date (expected d-Mon-yyyy)');
      return { op: 'date', sent: date[0], cmp: date[1], day };
    }
    if (ADDRESS_KEYS.has(upper)) return { op: 'address', name: upper.toLowerCase(), value: astring(this.next('string'), 'string') };
    if (upper === 'SUBJECT') return { op: 'header', name: 'subject', value: astring(this.next('string'), 'string') };
    switch (upper) {
      case 'ALL': return { op: 'all' };
      case 'RECENT': return { op: 'recent' };
      case 'NEW': return { op: 'new' };
      case 'OLD': return { op: 'old' };
      case 'KEYWORD': return { op: 'flag', flag: atom(this.next('keyword'), 'keyword'), set: true };
      case 'UNKEYWORD': return { op: 'flag', flag: atom(this.next('keyword'), 'keyword'), set: false };
      case 'NOT': return { op: 'not', key: this.read(depth + 1) };
      case 'OR': return { op: 'or', a: this.read(depth + 1), b: this.read(depth + 1) };
      case 'UID': return { op: 'uid', ranges: sequenceSet(this.next('UID set')) };
      case 'LARGER': return { op: 'size', larger: true, n: number(this.next('size'), 'size') };
      case 'SMALLER': return { op: 'size', larger: false, n: number(this.next('size'), 'size') };
      case 'HEADER': return { op: 'header', name: astring(this.next('field name'), 'field name').toLowerCase(), value: astring(this.next('string'), 'string') };
      case 'BODY': return { op: 'body', value: astring(this.next('string'), 'string') };
      case 'TEXT': return { op: 'text', value: astring(this.next('string'), 'string') };
      case 'MODSEQ': {
        if (this.tokens[this.pos]?.type === 'string') this.pos += 2;
        this.usesModseq = true;
        return { op: 'modseq', n: number(this.next('mod-sequence'), 'mod-sequence') };
      }
      default: throw new ArgumentError(`unknown search key ${word.slice(0, 30)}`);
    }
  }
}

export function parseSearch(tokens: readonly Token[]): SearchQuery {
  let start = 0;
  if (tokens[0]?.type === 'atom' && tokens[0].value.toUpperCase() === 'CHARSET') {
    const charset = astring(tokens[1], 'charset').toUpperCase();
    if (charset !== 'UTF-8' && charset !== 'US-ASCII') throw new ArgumentError(`unsupported charset ${charset.slice(0, 20)}`, 'BADCHARSET (UTF-8 US-ASCII)');
    start = 2;
  }
  const reader = new KeyReader(tokens.slice(start));
  const keys: SearchKey[] = [];
  while (reader.pos < tokens.length - start) keys.push(reader.read(0));
  if (keys.length === 0) throw new ArgumentError('missing search key');
  return { root: keys.length === 1 && keys[0] ? keys[0] : { op: 'and', keys }, usesModseq: reader.usesModseq };
}

export function needsContent(key: SearchKey): boolean {
  switch (key.op) {
    case 'and': return key.keys.some(needsContent);
    case 'or': return needsContent(key.a) || needsContent(key.b);
    case 'not': return needsContent(key.key);
    case 'header': case 'address': case 'body': case 'text': return true;
    case 'date': return key.sent;
    default: return false;
  }
}

export interface SearchTarget {
  seq: number;
  record: MessageRecord;
  star: { seq: number; uid: number };
  recent: boolean;
  content: Buffer | undefined;
  size(): Promise<number>;
  mime?: MimePart;
}

/**
 * An address header as SEARCH FROM/TO/CC/BCC match it (Dovecot writes the parsed
 * addresses back, RFC 3501 §6.4.4): `Name <local@domain>` or `local@domain` per address,
 * groups as `group: members;`, comments gone except where they name the address.
 */
function addressSearchText(value: string): string {
  const one = (name: string | undefined, address: string | undefined): string => {
    const text = (address ?? '').trim();
    const display = decodeWords((name ?? '').trim());
    if (onlyComment(value, name ?? '', text)) return '';
    return display === '' ? text : text === '' ? display : `${display} <${text}>`;
  };
  return (addressparser(value) as ParsedAddress[])
    .map((item) => (item.group ? `${decodeWords(item.name ?? '')}: ${item.group.map((member) => one(member.name, member.address)).filter((text) => text !== '').join(', ')};` : one(item.name, item.address)))
    .join(', ');
}

function contains(haystack: string, needle: string): boolean {
  return haystack.toLowerCase().includes(needle.toLowerCase());
}

function mimeOf(target: SearchTarget): MimePart {
  target.mime ??= parseMime(target.content ?? Buffer.alloc(0));
  return target.mime;
}

function compareDay(day: number, cmp: 'before' | 'on' | 'since', wanted: number): boolean {
  return cmp === 'before' ? day < wanted : cmp === 'on' ? day === wanted : day >= wanted;
}

export async function evaluate(key: SearchKey, target: SearchTarget): Promise<boolean> {
  const { record } = target;
  switch (key.op) {
    case 'and':
      for (const item of key.keys) if (!(await evaluate(item, target))) return false;
      return true;
    case 'or': return (await evaluate(key.a, target)) || evaluate(key.b, target);
    case 'not': return !(await evaluate(key.key, target));
    case 'all': return true;
    case 'flag': return record.flags.some((flag) => flag.toLowerCase() === key.flag.toLowerCase()) === key.set;
    case 'recent': return target.recent;
    case 'new': return target.recent && !record.flags.includes('\\Seen');
    case 'old': return !target.recent;
    case 'seq': return inSequenceSet(key.ranges, target.seq, target.star.seq);
    case 'uid': return inSequenceSet(key.ranges, record.uid, target.star.uid);
    case 'size': {
      const size = await target.size();
      return key.larger ? size > key.n : size < key.n;
    }
    case 'modseq': return record.modseq >= key.n;
    case 'date': {
      if (!key.sent) return compareDay(dayOf(record.internalDateMs), key.cmp, key.day);
      const sent = sentDay(fieldValue(mimeOf(target).fields, 'date') ?? '');
      return sent !== undefined && compareDay(sent, key.cmp, key.day);
    }
    case 'header': {
      const values = mimeOf(target).fields.filter(([name]) => name.toLowerCase() === key.name).map(([, value]) => value);
      if (key.value === '') return values.length > 0;
      return values.some((value) => contains(value, key.value) || contains(decodeWords(value), key.value));
    }
    case 'address': {
      const values = mimeOf(target).fields.filter(([name]) => name.toLowerCase() === key.name).map(([, value]) => value);
      if (key.value === '') return values.length > 0;
      return values.some((value) => contains(addressSearchText(value), key.value));
    }
    case 'body': return contains(bodyText(mimeOf(target)), key.value);
    case 'text': {
      const mime = mimeOf(target);
      return contains(decodeWords(mime.header.toString('latin1')), key.value) || contains(bodyText(mime), key.value);
    }
  }
}
