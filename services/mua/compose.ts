/**
 * Reply, reply-all and forward drafts (RFC 5322 §3.6.4: In-Reply-To is the parent's
 * Message-ID, References is the parent's References — or its In-Reply-To — followed by
 * the parent's Message-ID), and the finished message built by nodemailer's composer.
 */
import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { parseAddress } from '../../shared/address.ts';
import type { AddressView } from './gateway.ts';
import type { MessageView } from './message-view.ts';

export type DraftMode = 'reply' | 'all' | 'forward';

export interface Draft {
  to: string;
  cc: string;
  subject: string;
  text: string;
  inReplyTo?: string;
  references: string[];
}

/** RFC 5322 §3.6.5: "Re: " once, however many replies deep. */
export function replySubject(subject: string): string {
  return /^\s*re\s*:/iu.test(subject) ? subject.trim() : `Re: ${subject.trim()}`;
}

export function forwardSubject(subject: string): string {
  return /^\s*fwd?\s*:/iu.test(subject) ? subject.trim() : `Fwd: ${subject.trim()}`;
}

export function formatAddress(address: AddressView): string {
  if (!address.name) return address.address;
  const name = /[",;<>@()[\]\\:]/u.test(address.name) ? `"${address.name.replace(/["\\]/gu, '\\$&')}"` : address.name;
  return `${name} <${address.address}>`;
}

function uniqueExcept(list: AddressView[], exclude: Set<string>): AddressView[] {
  const seen = new Set(exclude);
  return list.filter((item) => {
    const key = item.address.toLowerCase();
    if (key === '' || seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function quote(view: MessageView): string {
  const author = view.from[0] ? formatAddress(view.from[0]) : 'someone';
  const when = view.date ? new Date(view.date).toUTCString() : 'an unknown date';
  const body = view.text.replace(/\r\n/gu, '\n').trimEnd().split('\n').map((line) => `> ${line}`).join('\n');
  return `\n\nOn ${when}, ${author} wrote:\n${body}\n`;
}

function forwarded(view: MessageView): string {
  const lines = [
    '',
    '',
    '---------- Forwarded message ----------',
    `From: ${view.from.map(formatAddress).join(', ')}`,
    ...(view.date ? [`Date: ${new Date(view.date).toUTCString()}`] : []),
    `Subject: ${view.subject}`,
    `To: ${view.to.map(formatAddress).join(', ')}`,
    ...(view.cc.length ? [`Cc: ${view.cc.map(formatAddress).join(', ')}`] : []),
    '',
    view.text.replace(/\r\n/gu, '\n').trimEnd(),
    '',
  ];
  return lines.join('\n');
}

/** The draft for replying to or forwarding `view`; `self` are the user's own addresses. */
export function draftFor(view: MessageView, mode: DraftMode, self: string[]): Draft {
  if (mode === 'forward') return { to: '', cc: '', subject: forwardSubject(view.subject), text: forwarded(view), references: [] };
  const mine = new Set(self.map((address) => address.toLowerCase()));
  const author = view.replyTo.length > 0 ? view.replyTo : view.from;
  // Replying to one's own message goes to its recipients, as mail clients do.
  const fromMe = author.every((item) => mine.has(item.address.toLowerCase()));
  let to = fromMe ? uniqueExcept(view.to, mine) : uniqueExcept(author, mine);
  let cc: AddressView[] = [];
  if (mode === 'all') {
    const taken = new Set([...mine, ...to.map((item) => item.address.toLowerCase())]);
    cc = uniqueExcept([...view.to, ...view.cc], taken);
  }
  if (to.length === 0 && cc.length > 0) [to, cc] = [cc, []];
  const references = view.references.length > 0 ? [...view.references] : view.inReplyTo ? [view.inReplyTo] : [];
  if (view.messageId && !references.includes(view.messageId)) references.push(view.messageId);
  const draft: Draft = {
    to: to.map(formatAddress).join(', '),
    cc: cc.map(formatAddress).join(', '),
    subject: replySubject(view.subject),
    text: quote(view),
    references,
  };
  if (view.messageId) draft.inReplyTo = view.messageId;
  return draft;
}

export type AddressListResult = { ok: true; addresses: AddressView[] } | { ok: false; reason: string };

/** Parses a To/Cc/Bcc field as typed; every address must be a valid `local@domain`. */
export function parseAddressField(text: string): AddressListResult {
  const addresses: AddressView[] = [];
  for (const entry of addressparser(text, { flatten: true })) {
    const checked = parseAddress(entry.address ?? '');
    if (!checked.ok) return { ok: false, reason: `"${entry.address || entry.name}" is not a mail address (${checked.reason})` };
    addresses.push({ name: entry.name ?? '', address: `${checked.address.local}@${checked.address.domain}` });
  }
  return { ok: true, addresses };
}

export interface OutgoingAttachment {
  filename: string;
  contentType: string;
  content: Buffer;
}

export interface Outgoing {
  from: AddressView;
  to: AddressView[];
  cc: AddressView[];
  bcc: AddressView[];
  subject: string;
  text: string;
  inReplyTo?: string;
  references: string[];
  attachments: OutgoingAttachment[];
}

export const USER_AGENT = 'mxlab web mail';

/** Builds the RFC 5322 message; Bcc stays out of the headers and only in the envelope. */
export async function buildMessage(message: Outgoing, now: Date = new Date()): Promise<{ raw: Buffer; messageId: string }> {
  const domain = message.from.address.split('@')[1] ?? 'localhost';
  const messageId = `<${randomUUID()}@${domain}>`;
  const composer = new MailComposer({
    from: formatAddress(message.from),
    to: message.to.map(formatAddress),
    cc: message.cc.map(formatAddress),
    subject: message.subject,
    text: message.text,
    messageId,
    date: now,
    headers: { 'User-Agent': USER_AGENT },
    ...(message.inReplyTo ? { inReplyTo: message.inReplyTo } : {}),
    ...(message.references.length ? { references: message.references } : {}),
    attachments: message.attachments.map((attachment) => ({
      filename: attachment.filename,
      contentType: attachment.contentType,
      content: attachment.content,
    })),
  });
  const raw = await composer.compile().build();
  return { raw, messageId };
}
