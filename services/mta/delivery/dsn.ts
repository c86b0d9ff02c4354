/**
 * Delivery status notifications (RFC 3464) for bounces and delay warnings: a
 * multipart/report (RFC 6522) with a human-readable part, a message/delivery-status
 * part, and the original message's header as text/rfc822-headers. Sent from
 * MAILER-DAEMON with the null sender (RFC 5321 §4.5.5), so no DSN is ever answered by
 * another one.
 */
import { headerSection as readSection } from '../../../shared/message/headers.ts';
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../../../shared/received.ts';

export type DsnAction = 'failed' | 'delayed';

export interface DsnRecipient {
  recipient: string;
  action: DsnAction;
  /** RFC 3463 code, e.g. `5.1.1`. */
  status: string;
  /** The reply that decided it, e.g. `550 5.1.1 no such user`. */
  diagnostic: string;
  /** Exchange name that gave the reply. */
  remoteMta?: string;
  lastAttemptAt?: number;
  /** delayed only: when the MTA gives up. */
  willRetryUntil?: number;
}

export interface DsnInput {
  /** This MTA's hostname. */
  reportingMta: string;
  queueId: string;
  /** Envelope sender of the original message: the DSN's recipient. */
  envelopeFrom: string;
  arrivalDate: number;
  recipients: DsnRecipient[];
  originalMessage: Buffer;
  now?: number;
}

/** RFC 3464 §2.2.3: Diagnostic-Code and its kin are text lines; this keeps them one line. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/gu, ' ').replace(/[\u0000-\u001f\u007f]/gu, '').trim();
}

/** The header section of a message (up to the first empty line), bytes kept, ending in CRLF. */
export function headerSection(message: Buffer): Buffer {
  const header = readSection(message, Number.POSITIVE_INFINITY).toString('latin1');
  return Buffer.from(`${header.replace(/\r?\n/gu, '\r\n')}\r\n`, 'latin1');
}

function humanText(input: DsnInput, delayed: boolean): string {
  const lines = delayed
    ? [
        `This is the mail system at host ${input.reportingMta}.`,
        '',
        '####################################################################',
        '# THIS IS A WARNING ONLY.  YOU DO NOT NEED TO RESEND YOUR MESSAGE. #',
        '####################################################################',
        '',
        'Your message could not be delivered yet. The mail system will keep trying.',
        '',
      ]
    : [
        `This is the mail system at host ${input.reportingMta}.`,
        '',
        "I'm sorry to have to inform you that your message could not",
        'be delivered to one or more recipients. It is attached below.',
        '',
      ];
  for (const recipient of input.recipients) {
    lines.push(`<${recipient.recipient}>: ${oneLine(recipient.diagnostic)}`);
  }
  return lines.join('\r\n');
}

function recipientFields(recipient: DsnRecipient): string {
  const fields = [
    `Final-Recipient: rfc822; ${recipient.recipient}`,
    `Action: ${recipient.action}`,
    `Status: ${recipient.status}`,
  ];
  if (recipient.remoteMta !== undefined) fields.push(`Remote-MTA: dns; ${oneLine(recipient.remoteMta)}`);
  fields.push(`Diagnostic-Code: smtp; ${oneLine(recipient.diagnostic)}`);
  if (recipient.lastAttemptAt !== undefined) fields.push(`Last-Attempt-Date: ${rfc5322Date(new Date(recipient.lastAttemptAt))}`);
  if (recipient.willRetryUntil !== undefined) fields.push(`Will-Retry-Until: ${rfc5322Date(new Date(recipient.willRetryUntil))}`);
  return fields.join('\r\n');
}

/** Builds the DSN message (CRLF line ends) and its Message-ID. */
export function buildDsn(input: DsnInput): { message: Buffer; messageId: string } {
  const now = input.now ?? Date.now();
  const delayed = input.recipients.every((recipient) => recipient.action === 'delayed');
  const boundary = `${input.queueId}.${randomBytes(6).toString('hex')}/${input.reportingMta}`;
  const messageId = `<${input.queueId}.${randomBytes(4).toString('hex')}.dsn@${input.reportingMta}>`;
  const perMessage = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `X-Mxlab-Queue-ID: ${input.queueId}`,
    `Arrival-Date: ${rfc5322Date(new Date(input.arrivalDate))}`,
  ].join('\r\n');
  const status = [perMessage, ...input.recipients.map(recipientFields)].join('\r\n\r\n');
  const parts = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.envelopeFrom}>`,
    `Subject: ${delayed ? 'Delayed Mail (still being retried)' : 'Undelivered Mail Returned to Sender'}`,
    `Date: ${rfc5322Date(new Date(now))}`,
    `Message-ID: ${messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    humanText(input, delayed),
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    status,
    '',
    `--${boundary}`,
    `Content-Description: ${delayed ? 'Delayed' : 'Undelivered'} Message Headers`,
    'Content-Type: text/rfc822-headers',
    '',
  ];
  const tail = [`--${boundary}--`, ''];
  const message = Buffer.concat([
    Buffer.from(parts.join('\r\n') + '\r\n', 'utf8'),
    headerSection(input.originalMessage),
    Buffer.from(tail.join('\r\n'), 'utf8'),
  ]);
  return { message, messageId };
}
