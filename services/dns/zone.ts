/**
 * RFC 1035 §5 master-file parser for the lab zones: $ORIGIN, $TTL, `@`, relative and
 * absolute names, omitted owners, parentheses spanning lines, comments, quoted
 * character-strings, class IN and the types the lab serves. Names come out lower-case,
 * absolute and without the trailing dot (the form dns-packet uses).
 */
import { isIP } from 'node:net';
import { tokenizeZone, type ZoneEntry, type ZoneToken } from './zone-lexer.ts';

export const ZONE_RECORD_TYPES = ['SOA', 'NS', 'MX', 'A', 'AAAA', 'TXT', 'SRV', 'CNAME', 'PTR'] as const;
export type ZoneRecordType = (typeof ZONE_RECORD_TYPES)[number];

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

interface RecordBase<T extends ZoneRecordType, D> {
  name: string;
  ttl: number;
  class: 'IN';
  type: T;
  data: D;
}

export type ZoneRecord =
  | RecordBase<'SOA', SoaData>
  | RecordBase<'NS', string>
  | RecordBase<'CNAME', string>
  | RecordBase<'PTR', string>
  | RecordBase<'A', string>
  | RecordBase<'AAAA', string>
  | RecordBase<'MX', { preference: number; exchange: string }>
  | RecordBase<'SRV', { priority: number; weight: number; port: number; target: string }>
  | RecordBase<'TXT', string[]>;

export interface Zone {
  /** The zone apex (origin of the SOA record), lower-case, no trailing dot. */
  origin: string;
  soa: RecordBase<'SOA', SoaData>;
  records: ZoneRecord[];
}

export class ZoneParseError extends Error {
  override readonly name = 'ZoneParseError';
  readonly file: string;
  readonly line: number;

  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.file = file;
    this.line = line;
  }
}

export interface ParseZoneOptions {
  /** Initial $ORIGIN (e.g. from the file name), absolute; the file may override it. */
  origin?: string;
  /** Name shown in errors. */
  file?: string;
}

/** RFC 2181 §8: a TTL is an unsigned 31-bit value. */
const MAX_TTL = 2 ** 31 - 1;
const TTL_UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses a TTL: seconds, or BIND-style units (`1h30m`). */
export function parseTtl(text: string): number | undefined {
  let total = 0;
  if (/^\d+$/.test(text)) {
    total = Number(text);
  } else {
    const parts = /^(?:\d+[smhdw])+$/i.test(text) ? text.match(/\d+[smhdw]/gi) : null;
    if (parts === null) return undefined;
    for (const part of parts) total += Number(part.slice(0, -1)) * (TTL_UNITS[part.slice(-1).toLowerCase()] ?? 0);
  }
  return total <= MAX_TTL ? total : undefined;
}

function isRecordType(text: string): text is ZoneRecordType {
  return (ZONE_RECORD_TYPES as readonly string[]).includes(text);
}

interface ParserState {
  file: string;
  origin: string | undefined;
  defaultTtl: number | undefined;
  lastOwner: string | undefined;
  lastTtl: number | undefined;
}

export function parseZone(text: string, options: ParseZoneOptions = {}): Zone {
  const state: ParserState = {
    file: options.file ?? '(zone)',
    origin: options.origin === undefined ? undefined : absoluteName(options.origin, undefined),
    defaultTtl: undefined,
    lastOwner: undefined,
    lastTtl: undefined,
  };
  const records: ZoneRecord[] = [];
  let entries: ZoneEntry[];
  try {
    entries = tokenizeZone(text);
  } catch (error) {
    const { line, message } = error as { line?: number; message: string };
    throw new ZoneParseError(state.file, line ?? 0, message);
  }
  for (const entry of entries) {
    try {
      const record = parseEntry(entry, state);
      if (record !== undefined) records.push(record);
    } catch (error) {
      if (error instanceof ZoneParseError) throw error;
      throw new ZoneParseError(state.file, entry.line, (error as Error).message);
    }
  }
  const soas = records.filter((record) => record.type === 'SOA');
  const soa = soas[0];
  if (soa === undefined || soas.length !== 1) {
    throw new ZoneParseError(state.file, 0, `a zone needs exactly one SOA record, found ${soas.length}`);
  }
  const origin = soa.name;
  const outside = records.find((record) => record.name !== origin && !record.name.endsWith(`.${origin}`));
  if (outside !== undefined) {
    throw new ZoneParseError(state.file, 0, `${outside.name} is outside the zone ${origin}`);
  }
  return { origin, soa, records };
}

function parseEntry(entry: ZoneEntry, state: ParserState): ZoneRecord | undefined {
  const tokens = [...entry.tokens];
  const first = tokens[0];
  if (first === undefined) return undefined;
  if (!first.quoted && first.text.startsWith('$') && !entry.ownerOmitted) {
    parseDirective(tokens, state);
    return undefined;
  }
  let owner: string;
  if (entry.ownerOmitted) {
    if (state.lastOwner === undefined) throw new Error('record without an owner name and no previous owner');
    owner = state.lastOwner;
  } else {
    owner = absoluteName(word(tokens.shift()), state.origin);
  }
  state.lastOwner = owner;

  let ttl: number | undefined;
  let sawClass = false;
  for (let i = 0; i < 2; i++) {
    const next = tokens[0];
    if (next === undefined || next.quoted) break;
    const upper = next.text.toUpperCase();
    const asTtl = parseTtl(next.text);
    if (ttl === undefined && asTtl !== undefined) {
      ttl = asTtl;
    } else if (!sawClass && (upper === 'IN' || upper === 'CH' || upper === 'HS' || upper === 'CS')) {
      if (upper !== 'IN') throw new Error(`class ${upper} is not supported (only IN)`);
      sawClass = true;
    } else {
      break;
    }
    tokens.shift();
  }
  const typeText = word(tokens.shift()).toUpperCase();
  if (!isRecordType(typeText)) throw new Error(`record type ${typeText} is not supported`);
  const resolvedTtl = ttl ?? state.defaultTtl ?? state.lastTtl;
  if (resolvedTtl === undefined) throw new Error('no TTL and no $TTL before this record');
  state.lastTtl = resolvedTtl;
  return buildRecord(owner, resolvedTtl, typeText, tokens, state);
}

function parseDirective(tokens: ZoneToken[], state: ParserState): void {
  const directive = word(tokens[0]).toUpperCase();
  const argument = word(tokens[1]);
  if (directive === '$ORIGIN') {
    if (!argument.endsWith('.')) throw new Error('$ORIGIN must be an absolute name (ending in ".")');
    state.origin = absoluteName(argument, undefined);
  } else if (directive === '$TTL') {
    const ttl = parseTtl(argument);
    if (ttl === undefined) throw new Error(`bad $TTL ${argument}`);
    state.defaultTtl = ttl;
  } else {
    throw new Error(`directive ${directive} is not supported`);
  }
  if (tokens.length > 2) throw new Error(`${directive} takes one argument`);
}

function buildRecord(name: string, ttl: number, type: ZoneRecordType, rdata: ZoneToken[], state: ParserState): ZoneRecord {
  const base = { name, ttl, class: 'IN' as const };
  const expect = (count: number): string[] => {
    if (rdata.length !== count) throw new Error(`${type} needs ${count} rdata fields, got ${rdata.length}`);
    return rdata.map((token) => word(token));
  };
  const nameOf = (text: string | undefined): string => absoluteName(text ?? '', state.origin);
  switch (type) {
    case 'A': {
      const [address = ''] = expect(1);
      if (isIP(address) !== 4) throw new Error(`bad IPv4 address ${address}`);
      return { ...base, type, data: address };
    }
    case 'AAAA': {
      const [address = ''] = expect(1);
      if (isIP(address) !== 6) throw new Error(`bad IPv6 address ${address}`);
      return { ...base, type, data: address.toLowerCase() };
    }
    case 'NS':
    case 'CNAME':
    case 'PTR':
      return { ...base, type, data: nameOf(expect(1)[0]) };
    case 'MX': {
      const [preference, exchange] = expect(2);
      return { ...base, type, data: { preference: uint(preference, 16), exchange: nameOf(exchange) } };
    }
    case 'SRV': {
      const [priority, weight, port, target] = expect(4);
      return {
        ...base,
        type,
        data: { priority: uint(priority, 16), weight: uint(weight, 16), port: uint(port, 16), target: nameOf(target) },
      };
    }
    case 'TXT': {
      if (rdata.length === 0) throw new Error('TXT needs at least one character-string');
      const strings = rdata.map((token) => token.text);
      const long = strings.find((text) => Buffer.byteLength(text, 'latin1') > 255);
      if (long !== undefined) throw new Error('a TXT character-string is longer than 255 bytes (RFC 1035 §3.3)');
      return { ...base, type, data: strings };
    }
    case 'SOA': {
      const [mname, rname, serial, refresh, retry, expire, minimum] = expect(7);
      return {
        ...base,
        type,
        data: {
          mname: nameOf(mname),
          rname: nameOf(rname),
          serial: uint(serial, 32),
          refresh: ttlField(refresh),
          retry: ttlField(retry),
          expire: ttlField(expire),
          minimum: ttlField(minimum),
        },
      };
    }
  }
}

function word(token: ZoneToken | undefined): string {
  if (token === undefined) throw new Error('unexpected end of record');
  return token.text;
}

function uint(text: string | undefined, bits: 16 | 32): number {
  const value = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || value >= 2 ** bits) throw new Error(`bad ${bits}-bit number ${text}`);
  return value;
}

function ttlField(text: string | undefined): number {
  const value = parseTtl(text ?? '');
  if (value === undefined) throw new Error(`bad time value ${text}`);
  return value;
}

/** Resolves `@`, relative and absolute names against the origin (RFC 1035 §5.1). */
export function absoluteName(text: string, origin: string | undefined): string {
  if (text === '@') {
    if (origin === undefined) throw new Error('"@" used before $ORIGIN');
    return origin;
  }
  if (text === '.') return '';
  if (text.includes('\\')) throw new Error(`escaped characters in names are not supported: ${text}`);
  if (text.endsWith('.')) return validName(text.slice(0, -1).toLowerCase());
  if (origin === undefined) throw new Error(`relative name ${text} used before $ORIGIN`);
  return validName(origin === '' ? text.toLowerCase() : `${text.toLowerCase()}.${origin}`);
}

/** RFC 1035 §2.3.4: labels of 63 octets, names of 255. */
function validName(name: string): string {
  const labels = name.split('.');
  if (name.length > 253 || labels.some((label) => label === '' || label.length > 63)) {
    throw new Error(`bad domain name ${name}`);
  }
  return name;
}
