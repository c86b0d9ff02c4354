/**
 * The key of a transaction the lab's MTAs hand on (issue 15: nothing delivered twice): the
 * host name and queue id of the Received field the first lab MTA wrote when it queued the
 * message (shared/received.ts writes `by <host> (mxlab <name>) with <protocol> id <queue
 * id>`), plus the recipient. A sender that resends after a crash sends the same bytes, and
 * a copy that came round by the backup MX carries the same origin, so the next hop (MTA or
 * MDA) finds the same key.
 */
import { fieldValues, readHeader } from './message/headers.ts';

const QUEUE_ID = /^[0-9A-F]{12,40}$/u;

/** Only the start of the header section is searched for the top Received field. */
const MAX_TRACE_SCAN_BYTES = 64 * 1024;
/** `by mx.alpha.test (mxlab alpha-mta) with ESMTPSA id 019AB3C1F2E4A7F3C2B1` (shared/received.ts). */
const OUR_TRACE = /\bby\s+([a-z0-9.-]+)\s+\(mxlab [a-z0-9-]+\)\s+with\s+[A-Z]+\s+id\s+([0-9A-F]+)\b/u;

/**
 * The host and queue id of the transaction's origin in the lab: of the run of Received
 * fields our MTAs wrote at the top of the message, the lowest one (the first lab MTA that
 * queued it). Mail that reached a hop by two paths (alpha-mta → beta-mx1, and alpha-mta →
 * beta-mx2 → beta-mx1 after a timeout) has the same origin, so the second copy is known.
 */
export function traceIdOf(message: Buffer): { by: string; id: string } | undefined {
  let origin: { by: string; id: string } | undefined;
  for (const field of fieldValues(readHeader(message, MAX_TRACE_SCAN_BYTES), 'received')) {
    const match = OUR_TRACE.exec(field);
    if (!match?.[1] || !match[2] || !QUEUE_ID.test(match[2])) break;
    origin = { by: match[1], id: match[2] };
  }
  return origin;
}

export function transactionKey(trace: { by: string; id: string }, recipient: string): string {
  return `${trace.by} ${trace.id} ${recipient}`;
}

/** `::ffff:172.28.0.10` (an IPv4 client on a dual-stack socket) is `172.28.0.10`. */
export function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

