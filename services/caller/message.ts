/**
 * The message as the engines see it: raw bytes, the MIME tree, the decoded top-level
 * headers, and the decoded text of every text part.
 */
import { decodeEncodedWords, headerValue, headerValues, leafParts, parseMime, partText, type MimeHeader, type MimePart } from './mime.ts';

export interface TextBody {
  contentType: 'text/plain' | 'text/html';
  text: string;
}

export interface ScanMessage {
  raw: Buffer;
  root: MimePart;
  headers: MimeHeader[];
  /** Decoded Subject:, undefined when the header is absent. */
  subject: string | undefined;
  messageId: string | undefined;
  /** Address of the From: header, lower-case. */
  from: string | undefined;
  /** Addresses of To: and Cc:. */
  headerRecipients: string[];
  leaves: MimePart[];
  texts: TextBody[];
}

export function readMessage(raw: Buffer): ScanMessage {
  const root = parseMime(raw);
  const leaves = leafParts(root);
  const subject = headerValue(root.headers, 'subject');
  const texts: TextBody[] = [];
  for (const part of leaves) {
    const disposition = (headerValue(part.headers, 'content-disposition') ?? '').toLowerCase();
    if (disposition.startsWith('attachment')) continue;
    if (part.contentType === 'text/plain' || part.contentType === 'text/html') {
      texts.push({ contentType: part.contentType, text: partText(part) });
    }
  }
  return {
    raw,
    root,
    headers: root.headers,
    subject: subject === undefined ? undefined : decodeEncodedWords(subject),
    messageId: headerValue(root.headers, 'message-id'),
    from: addressesIn(headerValue(root.headers, 'from') ?? '')[0],
    headerRecipients: [...headerValues(root.headers, 'to'), ...headerValues(root.headers, 'cc')].flatMap(addressesIn),
    leaves,
    texts,
  };
}

/** Addresses of an address-list header (RFC 5322 §3.4), good enough for rules: `a@b` tokens. */
export function addressesIn(value: string): string[] {
  const withoutComments = value.replace(/\([^()]*\)/g, ' ').replace(/"(?:[^"\\]|\\.)*"/g, ' ');
  return [...withoutComments.matchAll(/[^\s<>,;:"]+@[^\s<>,;:"]+/g)].map((match) => match[0].toLowerCase());
}

/** The domain of an address (the part after the last `@`), lower-case, or undefined. */
export function domainOf(address: string): string | undefined {
  const at = address.lastIndexOf('@');
  if (at === -1 || at === address.length - 1) return undefined;
  return address.slice(at + 1).replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
}

/** http(s) URLs in text or HTML (href attributes included), with HTML entities for `&` undone. */
export function extractUrls(text: string): URL[] {
  const urls: URL[] = [];
  for (const match of text.matchAll(/\bhttps?:\/\/[^\s"'<>()]+/gi)) {
    try {
      urls.push(new URL(match[0].replace(/&amp;/g, '&')));
    } catch {
      // Not a URL after all (e.g. `http://` alone): nothing to check.
      continue;
    }
  }
  return urls;
}
