/**
 * The message as the engines see it: raw bytes, the MIME tree, the decoded top-level
 * headers, and the decoded text of every text part.
 */
import { decodeEncodedWords, headerValue, headerValues, leafParts, parseMimeTree, partText, type MimeHeader, type MimeLimit, type MimePart } from './mime.ts';

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
  /** MIME limits the parse hit: what lies beyond them was not scanned. */
  limitsExceeded: MimeLimit[];
}

export function readMessage(raw: Buffer): ScanMessage {
  const { root, exceeded } = parseMimeTree(raw);
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
    limitsExceeded: exceeded,
  };
}

/**
 * Only this much of an address-list header is read for addresses: RFC 5322 §2.1.1 lines are
 * at most 998 octets, and a rule needs the first few addresses, not a folded megabyte.
 */
export const MAX_ADDRESS_HEADER_CHARS = 64 * 1024;
/** RFC 5321 §4.5.3.1.3: a path is at most 256 octets, so a longer token is no address. */
export const MAX_ADDRESS_CHARS = 254;
/** Addresses taken from one header at most (MANY_RCPTS needs a count, not every name). */
export const MAX_ADDRESSES_PER_HEADER = 1000;

/** Characters that end an address token outside quotes and comments. */
const ADDRESS_DELIMITERS = new Set([' ', '\t', '\r', '\n', '<', '>', ',', ';', ':']);

/**
 * Addresses of an address-list header (RFC 5322 §3.4), good enough for rules: `a@b` tokens
 * outside comments and quoted strings. One pass over at most MAX_ADDRESS_HEADER_CHARS, so
 * hostile headers cost linear time (a backtracking regex here cost seconds per MiB).
 */
export function addressesIn(value: string): string[] {
  const text = value.length > MAX_ADDRESS_HEADER_CHARS ? value.slice(0, MAX_ADDRESS_HEADER_CHARS) : value;
  const addresses: string[] = [];
  let tokenStart = -1;
  let commentDepth = 0;
  const endToken = (end: number): void => {
    if (tokenStart === -1) return;
    const length = end - tokenStart;
    if (length >= 3 && length <= MAX_ADDRESS_CHARS && addresses.length < MAX_ADDRESSES_PER_HEADER) {
      const token = text.slice(tokenStart, end);
      const at = token.indexOf('@');
      if (at > 0 && at < token.length - 1) addresses.push(token.toLowerCase());
    }
    tokenStart = -1;
  };
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    if (commentDepth > 0) {
      if (char === '\\') i++;
      else if (char === '(') commentDepth++;
      else if (char === ')') commentDepth--;
      continue;
    }
    if (char === '(') {
      endToken(i);
      commentDepth = 1;
    } else if (char === '"') {
      endToken(i);
      // A quoted string (display name or quoted local part) is skipped whole; unclosed, it runs to the end.
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (ADDRESS_DELIMITERS.has(char)) {
      endToken(i);
    } else if (tokenStart === -1) {
      tokenStart = i;
    }
  }
  endToken(text.length);
  return addresses;
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
