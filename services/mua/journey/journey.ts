/**
 * A message's journey, read from the message itself: its trace fields (Received,
 * Return-Path, Delivered-To), Authentication-Results and the content filter's verdict,
 * put in the order things happened. Pure: headers in, a plain object out.
 */
import { parseHeaderBlock, type HeaderField } from './headers.ts';
import { agentName, parseReceived, type ReceivedHop } from './received.ts';
import { parseAuthenticationResults, readVerdict, type AuthenticationResults, type Verdict } from './verdict.ts';

export type HopKind = 'submission' | 'relay' | 'delivery' | 'other';

export interface JourneyHop extends ReceivedHop {
  /** 1 for the first hop (the bottom-most Received). */
  step: number;
  agent: string;
  kind: HopKind;
  /** Milliseconds since the previous hop (or since the Date field for the first). */
  delayMs?: number;
}

export interface Journey {
  /** The Date field: when the author's client wrote the message. */
  written?: string;
  userAgent?: string;
  hops: JourneyHop[];
  /** Step of the hop that ran the content filter (the verdict sits above its Received). */
  verdictAfterStep?: number;
  verdict?: Verdict;
  authenticationResults: AuthenticationResults[];
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
  if (above?.kind === 'relay' && below?.kind !== 'relay') return above.step;
  return (below ?? above)?.step;
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

  const journey: Journey = { hops, authenticationResults: [], deliveredTo: [] };
  if (written !== undefined) journey.written = new Date(written).toISOString();
  const userAgent = firstValue(fields, 'user-agent') ?? firstValue(fields, 'x-mailer');
  if (userAgent) journey.userAgent = userAgent;
  const verdict = readVerdict(fields);
  if (verdict) {
    journey.verdict = verdict;
    const step = verdictStep(fields, receivedPositions, hops);
    if (step !== undefined) journey.verdictAfterStep = step;
  }
  journey.authenticationResults = fields
    .filter((field) => field.name === 'authentication-results')
    .map((field) => parseAuthenticationResults(field.value));
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
