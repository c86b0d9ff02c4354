/**
 * Turns a raw message into what the reading pane shows (mailparser): headers, the plain
 * text, whether there is HTML, and the attachment list. The HTML itself is sanitized and
 * served separately into the sandboxed iframe (message-frame.ts).
 */
import { simpleParser, type AddressObject, type Attachment, type ParsedMail } from 'mailparser';
import type { AddressView } from './gateway.ts';
import { contentIdKey } from './inline-parts.ts';
import { sanitizeMessageHtml, type SanitizedHtml } from './sanitize.ts';

export interface AttachmentView {
  index: number;
  filename: string;
  contentType: string;
  size: number;
}

export interface MessageView {
  subject: string;
  from: AddressView[];
  to: AddressView[];
  cc: AddressView[];
  replyTo: AddressView[];
  date?: string;
  messageId?: string;
  inReplyTo?: string;
  references: string[];
  text: string;
  hasHtml: boolean;
  attachments: AttachmentView[];
}

/** Messages bigger than this are not parsed for reading (the lab's messages are small). */
export const MAX_PARSE_BYTES = 25 * 1024 * 1024;

export function addressList(value: AddressObject | AddressObject[] | undefined): AddressView[] {
  const objects = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return objects.flatMap((object) =>
    object.value.flatMap((entry) =>
      entry.group ? entry.group.map((member) => ({ name: member.name, address: member.address ?? '' })) : [{ name: entry.name, address: entry.address ?? '' }],
    ),
  );
}

function references(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : value.split(/\s+/u)).filter((item) => item !== '');
}

/** Attachments the person can download: everything except inline images that the HTML uses. */
export function listedAttachments(parsed: ParsedMail): Attachment[] {
  return parsed.attachments.filter((attachment) => !(attachment.related && attachment.contentId && parsed.html));
}

export async function parseMessage(raw: Buffer): Promise<ParsedMail> {
  // keepCidLinks: mailparser would paste each inline image as a data: URI for every reference (issue 19).
  return simpleParser(raw.subarray(0, MAX_PARSE_BYTES), { skipHtmlToText: false, skipTextToHtml: true, skipTextLinks: true, keepCidLinks: true });
}

export function messageView(parsed: ParsedMail): MessageView {
  const view: MessageView = {
    subject: parsed.subject ?? '',
    from: addressList(parsed.from),
    to: addressList(parsed.to),
    cc: addressList(parsed.cc),
    replyTo: addressList(parsed.replyTo),
    references: references(parsed.references),
    text: parsed.text ?? '',
    hasHtml: typeof parsed.html === 'string' && parsed.html.trim() !== '',
    attachments: listedAttachments(parsed).map((attachment, index) => ({
      index,
      filename: attachment.filename ?? `attachment-${index + 1}`,
      contentType: attachment.contentType,
      size: attachment.size,
    })),
  };
  if (parsed.date) view.date = parsed.date.toISOString();
  if (parsed.messageId) view.messageId = parsed.messageId;
  if (parsed.inReplyTo) view.inReplyTo = parsed.inReplyTo;
  return view;
}

/** Parts an HTML body can show as `cid:` images: image types with a Content-ID, in message order. */
export function inlineImages(parsed: ParsedMail): Attachment[] {
  return parsed.attachments.filter((attachment) => attachment.contentId && INLINE_IMAGE_TYPE.test(attachment.contentType));
}

const INLINE_IMAGE_TYPE = /^image\/[\w.+-]+$/u;

/** `partUrl(index)`: where inline image `index` (of inlineImages) is served; without it cid: images show as missing. */
export function sanitizedHtml(parsed: ParsedMail, remoteImages: boolean, partUrl?: (index: number) => string): SanitizedHtml {
  const html = typeof parsed.html === 'string' ? parsed.html : '';
  const inline = new Map<string, string>();
  if (partUrl !== undefined) {
    inlineImages(parsed).forEach((attachment, index) => {
      const key = contentIdKey(attachment.contentId ?? '');
      if (!inline.has(key)) inline.set(key, partUrl(index));
    });
  }
  return sanitizeMessageHtml(html, { remoteImages, inline });
}
