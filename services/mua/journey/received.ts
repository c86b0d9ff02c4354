/**
 * Parses one `Received:` trace field (RFC 5321 §4.4) into what the journey view shows:
 * who handed the message over, who took it, with which protocol (RFC 3848 names: ESMTPS,
 * ESMTPSA, LMTP…), over TLS or not, authenticated or not, and when. It reads the form
 * shared/received.ts writes and the common forms of Postfix, Exim and Sendmail.
 */

export interface ReceivedHop {
  fromHelo?: string;
  fromHost?: string;
  fromAddress?: string;
  byHost?: string;
  /** The comment after `by`, e.g. `mxlab alpha-mta` or `Postfix`. */
  software?: string;
  protocol?: string;
  tls: boolean;
  tlsVersion?: string;
  cipher?: string;
  authenticated: boolean;
  authUser?: string;
  id?: string;
  for?: string;
  /** ISO 8601, when the date part parsed. */
  date?: string;
  raw: string;
}

type Token = { kind: 'word'; text: string } | { kind: 'comment'; text: string };

const KEYWORDS = new Set(['from', 'by', 'via', 'with', 'id', 'for']);

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] ?? '';
    if (/\s/u.test(char)) {
      i += 1;
    } else if (char === '(') {
      let depth = 0;
      let j = i;
      for (; j < text.length; j += 1) {
        if (text[j] === '\\') j += 1;
        else if (text[j] === '(') depth += 1;
        else if (text[j] === ')' && --depth === 0) break;
      }
      tokens.push({ kind: 'comment', text: text.slice(i + 1, j).trim() });
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s(]/u.test(text[j] ?? '')) j += 1;
      tokens.push({ kind: 'word', text: text.slice(i, j) });
      i = j;
    }
  }
  return tokens;
}

/** RFC 3848: the S suffix means TLS, the A suffix means SMTP AUTH. */
export function protocolFlags(protocol: string | undefined): { tls: boolean; authenticated: boolean } {
  const match = /^(?:UTF8)?(?:ESMTP|SMTP|LMTP)(S?)(A?)$/iu.exec(protocol ?? '');
  return { tls: Boolean(match?.[1]), authenticated: Boolean(match?.[2]) };
}

function readTls(comment: string, hop: ReceivedHop): void {
  const using = /using\s+(TLS\S*|SSL\S*)(?:\s+with\s+cipher\s+(\S+))?/iu.exec(comment);
  const postfix = /version=(TLS\S*)\s+cipher=(\S+)/iu.exec(comment);
  const found = using ?? postfix;
  if (found) {
    hop.tls = true;
    if (found[1]) hop.tlsVersion = found[1];
    if (found[2]) hop.cipher = found[2];
  }
}

function readAuth(comment: string, hop: ReceivedHop): void {
  const match = /authenticated\s+(?:sender|user|as)[:\s]\s*<?([^\s>)]+)>?/iu.exec(comment);
  if (match) {
    hop.authenticated = true;
    if (match[1]) hop.authUser = match[1];
  }
}

function readFromComment(comment: string, hop: ReceivedHop): void {
  const address = /\[(?:IPv6:)?([0-9a-fA-F:.]+)\]/u.exec(comment);
  if (address && hop.fromAddress === undefined) {
    hop.fromAddress = address[1];
    const host = comment.slice(0, address.index).trim().split(/\s+/u).pop();
    if (host && host !== 'unknown' && /^[\w.-]+$/u.test(host) && !/^(helo|using)=?$/iu.test(host)) hop.fromHost = host;
  }
}

function parseDate(text: string): string | undefined {
  const cleaned = text.replace(/\([^)]*\)/gu, '').trim();
  if (cleaned === '') return undefined;
  const ms = Date.parse(cleaned);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

export function parseReceived(value: string): ReceivedHop {
  const raw = value.replace(/\s+/gu, ' ').trim();
  const semicolon = raw.lastIndexOf(';');
  const body = semicolon === -1 ? raw : raw.slice(0, semicolon);
  const hop: ReceivedHop = { tls: false, authenticated: false, raw };
  const date = semicolon === -1 ? undefined : parseDate(raw.slice(semicolon + 1));
  if (date) hop.date = date;
  let clause = '';
  let valueTaken = false;
  for (const token of tokenize(body)) {
    if (token.kind === 'word' && KEYWORDS.has(token.text.toLowerCase())) {
      clause = token.text.toLowerCase();
      valueTaken = false;
      continue;
    }
    if (token.kind === 'comment') {
      readTls(token.text, hop);
      readAuth(token.text, hop);
      if (clause === 'from') readFromComment(token.text, hop);
      if (clause === 'by' && hop.software === undefined && !/using|authenticated/iu.test(token.text)) hop.software = token.text;
      continue;
    }
    if (valueTaken) continue;
    valueTaken = true;
    const word = token.text;
    if (clause === 'from') hop.fromHelo = word;
    else if (clause === 'by') hop.byHost = word.toLowerCase();
    else if (clause === 'with') hop.protocol = word.toUpperCase();
    else if (clause === 'id') hop.id = word;
    else if (clause === 'for') hop.for = word.replace(/^<|>$/gu, '');
    else valueTaken = false;
  }
  const flags = protocolFlags(hop.protocol);
  hop.tls ||= flags.tls;
  hop.authenticated ||= flags.authenticated;
  return hop;
}

/** `mxlab alpha-mta` → `alpha-mta`; other software is named by the host it ran on. */
export function agentName(hop: ReceivedHop): string {
  const mxlab = /^mxlab\s+([\w.-]+)/iu.exec(hop.software ?? '');
  if (mxlab?.[1]) return mxlab[1];
  return hop.byHost ?? 'unknown host';
}
