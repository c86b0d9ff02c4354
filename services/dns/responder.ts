/**
 * Answers one DNS query from the lab zones, socket-free: bytes in, bytes out.
 * Authoritative only (RFC 1034 §4.3.2 steps 3a–3c): names outside the lab zones are
 * REFUSED, there is no recursion.
 */
import dnsPacket, { type Answer, type DecodedPacket, type OptAnswer, type Question } from 'dns-packet';
import type { ZoneRecord } from './zone.ts';
import type { ZoneStore } from './zone-store.ts';

/** RFC 1035 §4.2.1: UDP messages without EDNS are limited to 512 bytes. */
export const CLASSIC_UDP_PAYLOAD = 512;
/** RFC 6891 §6.2.5; 1232 is the DNS Flag Day 2020 size that avoids IP fragmentation. */
export const MAX_UDP_PAYLOAD = 1232;
/** RFC 1034 §3.6.2: CNAME chains are followed, bounded against loops. */
export const MAX_CNAME_CHAIN = 8;

export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type RcodeName = keyof typeof RCODE;

const OPCODE_MASK = 0x7800;
const HEADER_BYTES = 12;

export type Transport = 'udp' | 'tcp';

export interface DnsReply {
  /** Undefined when the message must be dropped (a response, or not even a header). */
  bytes: Buffer | undefined;
  rcode: RcodeName;
  question?: string;
  truncated: boolean;
}

export function respond(store: ZoneStore, message: Buffer, transport: Transport, random: () => number = Math.random): DnsReply {
  let query: DecodedPacket;
  try {
    query = dnsPacket.decode(message);
  } catch {
    if (message.length < HEADER_BYTES) return { bytes: undefined, rcode: 'FORMERR', truncated: false };
    const flags = (message.readUInt16BE(2) & OPCODE_MASK) | RCODE.FORMERR;
    const bytes = dnsPacket.encode({ type: 'response', id: message.readUInt16BE(0), flags, questions: [] });
    return { bytes, rcode: 'FORMERR', truncated: false };
  }
  if (query.type === 'response') return { bytes: undefined, rcode: 'FORMERR', truncated: false };

  const queryOpt = (query.additionals ?? []).find((record): record is OptAnswer => record.type === 'OPT');
  const questions = query.questions ?? [];
  const base = {
    id: query.id ?? 0,
    flags: (query.flags ?? 0) & OPCODE_MASK,
    rd: query.flag_rd,
    questions,
    opt: queryOpt !== undefined,
  };
  const question = questions[0];
  const opcode = (query as DecodedPacket & { opcode?: string }).opcode;
  if (opcode !== 'QUERY') return finish(base, { rcode: 'NOTIMP' }, transport, queryOpt);
  if (question === undefined || questions.length !== 1) return finish(base, { rcode: 'FORMERR' }, transport, queryOpt);
  if (question.class !== undefined && question.class !== 'IN' && question.class !== 'ANY') {
    return finish(base, { rcode: 'REFUSED' }, transport, queryOpt, question);
  }
  return finish(base, resolveQuestion(store, question, random), transport, queryOpt, question);
}

interface Sections {
  rcode: RcodeName;
  authoritative?: boolean;
  answers?: Answer[];
  authorities?: Answer[];
  additionals?: Answer[];
}

function resolveQuestion(store: ZoneStore, question: Question, random: () => number): Sections {
  const answers: Answer[] = [];
  const authorities: Answer[] = [];
  let name = question.name;
  for (let chain = 0; chain <= MAX_CNAME_CHAIN; chain++) {
    const found = store.lookup(name);
    if (found.kind === 'refused') {
      // A CNAME that leaves the lab zones: answer the chain so far (RFC 1034 §4.3.2 3a).
      return chain === 0 ? { rcode: 'REFUSED' } : { rcode: 'NOERROR', authoritative: true, answers };
    }
    const negative = (): Answer => {
      const soa = found.zone.soa;
      // RFC 2308 §5: the negative TTL is the lesser of the SOA's TTL and its MINIMUM.
      return { name: soa.name, type: 'SOA', class: 'IN', ttl: Math.min(soa.ttl, soa.data.minimum), data: soa.data };
    };
    if (found.kind === 'nxdomain') {
      authorities.push(negative());
      return { rcode: 'NXDOMAIN', authoritative: true, answers, authorities };
    }
    const owner = chain === 0 ? question.name : name;
    const matching = found.records.filter((record) => (question.type as string) === 'ANY' || record.type === question.type);
    if (matching.length > 0) {
      answers.push(...shuffleRRsets(matching, random).map((record) => toAnswer(record, owner)));
      return { rcode: 'NOERROR', authoritative: true, answers, additionals: glue(store, matching) };
    }
    const cname = found.records.find((record) => record.type === 'CNAME');
    if (cname === undefined || cname.type !== 'CNAME') {
      authorities.push(negative());
      return { rcode: 'NOERROR', authoritative: true, answers, authorities };
    }
    answers.push(toAnswer(cname, owner));
    name = cname.data;
  }
  return { rcode: 'SERVFAIL' };
}

/** RFC 1035 §3.3.9 / RFC 2782: addresses of MX, SRV and NS targets in the additional section. */
function glue(store: ZoneStore, records: ZoneRecord[]): Answer[] {
  const targets = new Set<string>();
  for (const record of records) {
    if (record.type === 'MX') targets.add(record.data.exchange);
    else if (record.type === 'SRV') targets.add(record.data.target);
    else if (record.type === 'NS') targets.add(record.data);
  }
  const additionals: Answer[] = [];
  for (const target of targets) {
    const found = store.lookup(target);
    if (found.kind !== 'found') continue;
    for (const record of found.records) {
      if (record.type === 'A' || record.type === 'AAAA') additionals.push(toAnswer(record, record.name));
    }
  }
  return additionals;
}

/** Random order inside each RRset, RRsets in zone order (what CoreDNS `loadbalance` does). */
function shuffleRRsets(records: ZoneRecord[], random: () => number): ZoneRecord[] {
  const sets = new Map<string, ZoneRecord[]>();
  for (const record of records) {
    const set = sets.get(record.type) ?? [];
    set.push(record);
    sets.set(record.type, set);
  }
  const out: ZoneRecord[] = [];
  for (const set of sets.values()) {
    for (let i = set.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [set[i], set[j]] = [set[j] as ZoneRecord, set[i] as ZoneRecord];
    }
    out.push(...set);
  }
  return out;
}

function toAnswer(record: ZoneRecord, owner: string): Answer {
  const common = { name: owner, ttl: record.ttl, class: 'IN' as const };
  if (record.type === 'TXT') {
    return { ...common, type: 'TXT', data: record.data.map((text) => Buffer.from(text, 'latin1')) };
  }
  return { ...common, type: record.type, data: record.data } as Answer;
}

interface Base {
  id: number;
  flags: number;
  rd: boolean;
  questions: Question[];
  opt: boolean;
}

function finish(base: Base, sections: Sections, transport: Transport, queryOpt?: OptAnswer, question?: Question): DnsReply {
  const optRecords: Answer[] = base.opt ? [{ name: '.', type: 'OPT', udpPayloadSize: MAX_UDP_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] }] : [];
  const rcode = sections.rcode;
  const flags =
    base.flags |
    RCODE[rcode] |
    (sections.authoritative === true ? dnsPacket.AUTHORITATIVE_ANSWER : 0) |
    (base.rd ? dnsPacket.RECURSION_DESIRED : 0);
  const packet = {
    type: 'response' as const,
    id: base.id,
    flags,
    questions: base.questions,
    answers: sections.answers ?? [],
    authorities: sections.authorities ?? [],
    additionals: [...(sections.additionals ?? []), ...optRecords],
  };
  const questionText = question === undefined ? undefined : `${question.name} ${question.type}`;
  let bytes = dnsPacket.encode(packet);
  const limit = queryOpt === undefined ? CLASSIC_UDP_PAYLOAD : Math.min(Math.max(queryOpt.udpPayloadSize, CLASSIC_UDP_PAYLOAD), MAX_UDP_PAYLOAD);
  if (transport === 'udp' && bytes.length > limit) {
    // RFC 2181 §9: set TC and let the client retry over TCP.
    bytes = dnsPacket.encode({ ...packet, flags: flags | dnsPacket.TRUNCATED_RESPONSE, answers: [], authorities: [], additionals: optRecords });
    return { bytes, rcode, truncated: true, ...(questionText === undefined ? {} : { question: questionText }) };
  }
  return { bytes, rcode, truncated: false, ...(questionText === undefined ? {} : { question: questionText }) };
}
