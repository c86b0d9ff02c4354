/**
 * A message's journey, read from the message itself: its trace fields (Received,
 * Return-Path, Delivered-To), Authentication-Results and the content filter's verdict,
 * put in the order things happened. Pure: headers in, a plain object out.
 */
import { parseHeaderBlock, type HeaderField } from './headers.ts';
import { agentName, parseReceived, type ReceivedHop } from './received.ts';
import { parseAuthenticationResults, readVerdict, type AuthenticationResults, type AuthResult, type Verdict } from './verdict.ts';

export type HopKind = 'submission' | 'relay' | 'delivery' | 'other';

export interface JourneyHop extends ReceivedHop {
  /** 1 for the first hop (the bottom-most Received). */
  step: number;
  agent: string;
  kind: HopKind;
  /** Milliseconds since the previous hop (or since the Date field for the first). */
  delayMs?: number;
}

/** One Authentication-Results field, placed at the hop that wrote it. */
export interface HopAuthentication extends AuthenticationResults {
  /**
   * The hop whose Received names the authserv-id as its `by` host, the one nearest the
   * field (each MX writes both in one block). Undefined: no hop of this journey wrote it.
   */
  step?: number;
  /** The field's value as written (unfolded). */
  raw: string;
}

/**
 * An ARC set (RFC 8617): the seal a forwarding hop put on the message, vouching for what
 * its own checks found (ARC-Authentication-Results), at the hop whose name that field carries.
 */
export interface ArcSeal {
  /** The instance: 1 for the first forwarder, 2 for the next. */
  instance: number;
  /** The sealer's domain (d=) and selector (s=). */
  domain?: string;
  selector?: string;
  /** cv=: what the sealer found of the chain before it (none for the first). */
  chain?: string;
  /** The authserv-id of its ARC-Authentication-Results. */
  authservId?: string;
  /** What the sealer found, as its ARC-Authentication-Results says. */
  results: AuthResult[];
  step?: number;
}

/** What the newest checking hop found about the author's domain (the From field). */
export interface SenderCheck {
  authservId: string;
  step: number;
  /** RFC 7489 result: pass, fail, none, temperror, permerror. */
  dmarc: string;
  /** header.from: the From domain DMARC was checked for. */
  domain?: string;
  /** policy.dmarc, or the p= in the result's comment. */
  policy?: string;
  comment?: string;
  /** The hop forgave a DMARC failure (a trusted ARC sealer vouched for it). */
  forgiven: boolean;
}

export interface Journey {
  /** The Date field: when the author's client wrote the message. */
  written?: string;
  userAgent?: string;
  hops: JourneyHop[];
  /** Step of the hop that ran the content filter (the verdict sits above its Received). */
  verdictAfterStep?: number;
  verdict?: Verdict;
  authenticationResults: HopAuthentication[];
  senderCheck?: SenderCheck;
  arcSeals: ArcSeal[];
  returnPath?: string;
  deliveredTo: string[];
  /** From the Date field (or the first hop) to the last hop. */
  totalMs?: number;
}

export function hopKind(hop: ReceivedHop): HopKind {
  const protocol = hop.protocol ?? '';
  if (/^(UTF8)?LMTP/u.test(protocol)) return 'delivery';
  if (hop.authenticated) return 'submission';
  if (/SMTP/u.test(protocol)) return 'relay';
  return 'other';
}

function ms(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const value = Date.parse(iso);
  return Number.isNaN(value) ? undefined : value;
}

function firstValue(fields: HeaderField[], name: string): string | undefined {
  return fields.find((field) => field.name === name)?.value;
}

/** Fields an MX writes between its Received and the content filter's verdict. */
const HOP_RESULT_FIELDS = new Set(['authentication-results', 'x-mxlab-quarantine']);

const isVerdictField = (field: HeaderField) => field.name.startsWith('x-spam-') || field.name.startsWith('x-virus-');

/**
 * The hop that ran the content filter. Its fields sit next to that hop's Received: just
 * below it when the MTA added its Received last, just above when it added it first. The
 * filter runs at an inbound MX, so a relay hop is preferred over its neighbour.
 */
function verdictStep(fields: HeaderField[], receivedPositions: number[], hops: JourneyHop[]): number | undefined {
  const top = fields.findIndex(isVerdictField);
  const bottom = fields.findLastIndex(isVerdictField);
  const abovePosition = fields.findLastIndex((field, index) => index < top && field.name === 'received');
  const belowPosition = fields.findIndex((field, index) => index > bottom && field.name === 'received');
  const above = abovePosition === -1 ? undefined : hops[receivedPositions.indexOf(abovePosition)];
  const below = belowPosition === -1 ? undefined : hops[receivedPositions.indexOf(belowPosition)];
  // mxlab's MX writes one block: its Received, its Authentication-Results, then the verdict.
  const sameBlock = abovePosition !== -1 && fields.slice(abovePosition + 1, top).every((field) => HOP_RESULT_FIELDS.has(field.name));
  if (above?.kind === 'relay' && (sameBlock || below?.kind !== 'relay')) return above.step;
  return (below ?? above)?.step;
}

function authenticationAtHops(fields: HeaderField[], receivedPositions: number[], hops: JourneyHop[]): HopAuthentication[] {
  return fields.flatMap((field, position) => {
    if (field.name !== 'authentication-results') return [];
    const parsed: HopAuthentication = { ...parseAuthenticationResults(field.value), raw: field.value };
    const id = parsed.authservId.toLowerCase();
    let nearest: { step: number; distance: number } | undefined;
    for (const [i, receivedAt] of receivedPositions.entries()) {
      const hop = hops[i];
      if (!hop || hop.byHost?.toLowerCase() !== id) continue;
      const distance = Math.abs(receivedAt - position);
      if (!nearest || distance < nearest.distance) nearest = { step: hop.step, distance };
    }
    if (nearest) parsed.step = nearest.step;
    return [parsed];
  });
}

/** `i=1; a=rsa-sha256; d=beta.test; s=lab1; cv=none; …` → its tags. */
function tagsOf(value: string): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim();
  }
  return tags;
}

function arcSeals(fields: HeaderField[], hops: JourneyHop[]): ArcSeal[] {
  const seals = new Map<number, ArcSeal>();
  const at = (instance: number): ArcSeal => {
    let seal = seals.get(instance);
    if (!seal) seals.set(instance, (seal = { instance, results: [] }));
    return seal;
  };
  for (const field of fields) {
    if (field.name === 'arc-seal') {
      const tags = tagsOf(field.value);
      const instance = Number(tags.i);
      if (!Number.isInteger(instance) || instance < 1) continue;
      const seal = at(instance);
      if (tags.d) seal.domain = tags.d;
      if (tags.s) seal.selector = tags.s;
      if (tags.cv) seal.chain = tags.cv;
    } else if (field.name === 'arc-authentication-results') {
      const match = /^\s*i\s*=\s*(\d+)\s*;(.*)$/su.exec(field.value);
      if (!match) continue;
      const seal = at(Number(match[1]));
      const parsed = parseAuthenticationResults(match[2] ?? '');
      seal.authservId = parsed.authservId;
      seal.results = parsed.results;
      const hop = hops.find((item) => item.byHost?.toLowerCase() === parsed.authservId.toLowerCase());
      if (hop) seal.step = hop.step;
    }
  }
  return [...seals.values()].sort((a, b) => a.instance - b.instance);
}

/** The DMARC result of the newest hop that checked (RFC 8601 §7.1: the one nearest the reader). */
function senderCheckOf(results: HopAuthentication[]): SenderCheck | undefined {
  let newest: { at: HopAuthentication; dmarc: AuthResult; step: number } | undefined;
  for (const at of results) {
    const dmarc = at.results.find((result) => result.method === 'dmarc');
    if (at.step === undefined || !dmarc) continue;
    if (!newest || at.step > newest.step) newest = { at, dmarc, step: at.step };
  }
  if (!newest) return undefined;
  const { at, dmarc, step } = newest;
  const check: SenderCheck = { authservId: at.authservId, step, dmarc: dmarc.result, forgiven: /local policy/iu.test(dmarc.comment ?? '') };
  const domain = dmarc.properties['header.from'];
  if (domain) check.domain = domain;
  const policy = dmarc.properties['policy.dmarc'] ?? /\bp=(\w+)/iu.exec(dmarc.comment ?? '')?.[1]?.toLowerCase();
  if (policy) check.policy = policy;
  if (dmarc.comment) check.comment = dmarc.comment;
  return check;
}

export function journeyFromFields(fields: HeaderField[]): Journey {
  // Each agent prepends its Received, so the bottom-most is the first hop.
  const receivedPositions = fields.flatMap((field, index) => (field.name === 'received' ? [index] : [])).reverse();
  const writtenText = firstValue(fields, 'date');
  const written = writtenText === undefined ? undefined : ms(writtenText);
  const hops: JourneyHop[] = [];
  let previous = written;
  for (const [i, position] of receivedPositions.entries()) {
    const parsed = parseReceived(fields[position]?.value ?? '');
    const at = ms(parsed.date);
    const hop: JourneyHop = { ...parsed, step: i + 1, agent: agentName(parsed), kind: hopKind(parsed) };
    if (at !== undefined && previous !== undefined) hop.delayMs = at - previous;
    if (at !== undefined) previous = at;
    hops.push(hop);
  }

  const journey: Journey = { hops, authenticationResults: [], arcSeals: [], deliveredTo: [] };
  if (written !== undefined) journey.written = new Date(written).toISOString();
  const userAgent = firstValue(fields, 'user-agent') ?? firstValue(fields, 'x-mailer');
  if (userAgent) journey.userAgent = userAgent;
  const verdict = readVerdict(fields);
  if (verdict) {
    journey.verdict = verdict;
    const step = verdictStep(fields, receivedPositions, hops);
    if (step !== undefined) journey.verdictAfterStep = step;
  }
  journey.authenticationResults = authenticationAtHops(fields, receivedPositions, hops);
  const senderCheck = senderCheckOf(journey.authenticationResults);
  if (senderCheck) journey.senderCheck = senderCheck;
  journey.arcSeals = arcSeals(fields, hops);
  const returnPath = firstValue(fields, 'return-path');
  if (returnPath !== undefined) journey.returnPath = returnPath.replace(/^<|>$/gu, '');
  journey.deliveredTo = fields.filter((field) => field.name === 'delivered-to').map((field) => field.value);
  const times = hops.map((hop) => ms(hop.date)).filter((value): value is number => value !== undefined);
  const start = written ?? times[0];
  const end = times[times.length - 1];
  if (start !== undefined && end !== undefined) journey.totalMs = end - start;
  return journey;
}

export function journeyOf(raw: string | Buffer): Journey {
  return journeyFromFields(parseHeaderBlock(raw));
}
