/**
 * What a delivery attempt says about each recipient, and the transport interface every
 * way of delivering (LMTP to the MDA, SMTP to an MX) implements.
 */
import type { Logger } from '../../../shared/log.ts';

/** delivered: done; permanent: bounce, no retry; temporary: retry later (or next address). */
export type OutcomeKind = 'delivered' | 'temporary' | 'permanent';

export interface RecipientOutcome {
  recipient: string;
  kind: OutcomeKind;
  /** The reply line that decided it, e.g. `550 5.1.1 <x@beta.test>: no such user`. */
  reply: string;
  /** RFC 3463 enhanced status code, from the reply or chosen by us. */
  enhanced: string;
  /** Host that gave the reply (`mx1.beta.test [127.28.0.20]`), absent when none did. */
  remoteMta?: string;
}

/** One message to a set of recipients that share a route (one domain, or the LMTP hop). */
export interface DeliveryJob {
  queueId: string;
  messageId?: string;
  /** '' = null sender. */
  mailFrom: string;
  recipients: string[];
  /** Recipient domain; the MX transport routes by it. */
  domain: string;
  message: Buffer;
  /** Child logger carrying queueId and messageId. */
  logger: Logger;
}

export interface DeliveryTransport {
  /** One outcome per recipient of the job, never a rejection. */
  deliver(job: DeliveryJob): Promise<RecipientOutcome[]>;
  close(): Promise<void>;
}

const ENHANCED = /^([245])\.(\d{1,3})\.(\d{1,3})\b/u;

/** Reads `NNN X.Y.Z text` from a reply; falls back to the class default (RFC 3463 §3). */
export function parseReply(reply: string): { code: number; enhanced: string } {
  const code = Number(/^(\d{3})/u.exec(reply)?.[1] ?? 0);
  const rest = reply.replace(/^\d{3}[ -]?/u, '');
  const enhanced = ENHANCED.exec(rest)?.[0] ?? (code >= 500 ? '5.0.0' : code >= 400 ? '4.0.0' : code >= 200 && code < 300 ? '2.0.0' : '4.0.0');
  return { code, enhanced };
}

/** Single-line, bounded reply text for logs, state files and DSNs. */
export function cleanReply(reply: string): string {
  return reply.replace(/\r?\n/gu, ' ').replace(/[\u0000-\u001f\u007f]/gu, '').slice(0, 400).trim();
}

/**
 * RFC 5321 §4.2.1: 5yz is permanent, except 503 (bad sequence), which says the session was
 * in the wrong state rather than that the message was refused.
 */
export function isPermanentCode(code: number): boolean {
  return code >= 500 && code < 600 && code !== 503;
}

export function outcomeFromReply(recipient: string, reply: string, remoteMta?: string): RecipientOutcome {
  const text = cleanReply(reply);
  const { code, enhanced } = parseReply(text);
  const kind: OutcomeKind = code >= 200 && code < 300 ? 'delivered' : isPermanentCode(code) ? 'permanent' : 'temporary';
  return { recipient, kind, reply: text, enhanced, ...(remoteMta === undefined ? {} : { remoteMta }) };
}
