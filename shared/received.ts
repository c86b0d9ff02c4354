/**
 * The Received trace header (RFC 5321 §4.4) with RFC 3848's protocol names
 * (ESMTP, ESMTPS, ESMTPA, ESMTPSA, LMTP…): one builder for every hop, so the MUA's
 * journey view can read every hop the same way.
 */

export interface ReceivedInfo {
  /** Name the client gave in HELO/EHLO/LHLO. */
  helo: string;
  /** Client IP address. */
  clientAddress: string;
  /** Reverse name of the client, when known. */
  clientHostname?: string;
  /** This host's name. */
  by: string;
  /** Software tag shown after `by`, e.g. `mxlab alpha-mta`. */
  software: string;
  /** `SMTP`, `ESMTP` or `LMTP`; the S and A suffixes are added from tls and authUser. */
  protocol: 'SMTP' | 'ESMTP' | 'LMTP' | 'HTTP';
  tls?: { version: string; cipher: string };
  authUser?: string;
  id?: string;
  /** Single recipient (the `for` clause); omitted when there are several. */
  for?: string;
  date?: Date;
}

/** RFC 5322 §3.3 date-time, e.g. `Mon, 23 Nov 2026 16:15:14 +0000`. */
export function rfc5322Date(date: Date = new Date()): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]}, ${date.getUTCDate()} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(
    date.getUTCHours(),
  )}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** RFC 3848 `with` keyword. */
export function withProtocol(protocol: ReceivedInfo['protocol'], tls: boolean, authenticated: boolean): string {
  if (protocol === 'SMTP' || protocol === 'HTTP') return protocol;
  return `${protocol}${tls ? 'S' : ''}${authenticated ? 'A' : ''}`;
}

function sanitize(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f()\\]/gu, '').slice(0, 255);
}

/** Returns the whole header line, `Received: …` folded, ending in CRLF. */
export function buildReceived(info: ReceivedInfo): string {
  const client = info.clientHostname ? `${sanitize(info.clientHostname)} [${info.clientAddress}]` : `[${info.clientAddress}]`;
  const lines = [`Received: from ${sanitize(info.helo) || 'unknown'} (${client})`];
  if (info.tls) lines.push(`(using ${sanitize(info.tls.version)} with cipher ${sanitize(info.tls.cipher)})`);
  if (info.authUser) lines.push(`(authenticated sender: ${sanitize(info.authUser)})`);
  let by = `by ${info.by} (${sanitize(info.software)}) with ${withProtocol(info.protocol, info.tls !== undefined, info.authUser !== undefined)}`;
  if (info.id) by += ` id ${info.id}`;
  lines.push(by);
  const tail = info.for ? `for <${info.for}>; ` : '';
  lines.push(`${tail}${rfc5322Date(info.date)}`);
  return `${lines.join('\r\n\t')}\r\n`;
}
