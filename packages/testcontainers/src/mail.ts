/**
 * The lab's mail from the test's side, through the same doors a mail client uses:
 * submission with STARTTLS + AUTH (nodemailer), IMAP with STARTTLS (imapflow), the lab CA
 * trusted and the certificate's name checked.
 */
import { ImapFlow } from 'imapflow';
import { simpleParser, type ParsedMail } from 'mailparser';
import nodemailer from 'nodemailer';

export interface TlsEndpoint {
  host: string;
  port: number;
  /** The name on the agent's certificate (smtp.alpha.test, imap.beta.test). */
  servername: string;
  ca: string;
}

export interface Credentials {
  user: string;
  pass: string;
}

export interface Mail {
  from: string;
  to: string | string[];
  cc?: string | string[];
  bcc?: string | string[];
  subject?: string;
  text?: string;
  html?: string;
  headers?: Record<string, string>;
  attachments?: { filename: string; content: string | Buffer; contentType?: string }[];
  /** A whole RFC 5322 message instead of subject/text/html (sent as is, envelope from/to). */
  raw?: string | Buffer;
  /** Submission login; default: the sender with its lab password. */
  auth?: Credentials;
}

export interface SentMail {
  messageId: string;
  /** The submission server's final reply (`250 2.0.0 queued as …`). */
  response: string;
  accepted: string[];
  rejected: string[];
}

export interface LabMessage {
  /** The mailbox owner (`bob@beta.test`) and the folder (`INBOX`, `Junk`, …). */
  mailbox: string;
  folder: string;
  uid: number;
  /** The message as stored, every header the chain added included. */
  source: string;
  parsed: ParsedMail;
}

/** A test on a message: a function, or fields that must all match. */
export type MessageFilter =
  | ((message: LabMessage) => boolean)
  | { subject?: string | RegExp; from?: string; messageId?: string; text?: string | RegExp };

export async function submit(endpoint: TlsEndpoint, auth: Credentials, mail: Mail): Promise<SentMail> {
  const transport = nodemailer.createTransport({
    host: endpoint.host,
    port: endpoint.port,
    secure: false,
    requireTLS: true,
    tls: { ca: endpoint.ca, servername: endpoint.servername },
    auth,
  });
  try {
    const envelope = { from: mail.from, to: [mail.to, mail.cc ?? [], mail.bcc ?? []].flat() };
    const info = mail.raw
      ? await transport.sendMail({ envelope, raw: mail.raw })
      : await transport.sendMail({
          from: mail.from,
          to: mail.to,
          ...(mail.cc === undefined ? {} : { cc: mail.cc }),
          ...(mail.bcc === undefined ? {} : { bcc: mail.bcc }),
          subject: mail.subject,
          text: mail.text,
          html: mail.html,
          headers: mail.headers,
          attachments: mail.attachments,
        });
    return {
      messageId: info.messageId,
      response: info.response,
      accepted: info.accepted.map(String),
      rejected: info.rejected.map(String),
    };
  } finally {
    transport.close();
  }
}

function imapClient(endpoint: TlsEndpoint, auth: Credentials): ImapFlow {
  return new ImapFlow({
    host: endpoint.host,
    port: endpoint.port,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: endpoint.ca, servername: endpoint.servername },
    auth,
    logger: false,
    // IDLE as soon as the connection is quiet, so a new message is announced at once.
    autoIdleDelay: 50,
  });
}

async function toMessage(mailbox: string, folder: string, uid: number, source: Buffer): Promise<LabMessage> {
  return { mailbox, folder, uid, source: source.toString('utf8'), parsed: await simpleParser(source) };
}

export function matcher(filter: MessageFilter | undefined): (message: LabMessage) => boolean {
  if (filter === undefined) return () => true;
  if (typeof filter === 'function') return filter;
  const like = (value: string | undefined, expected: string | RegExp | undefined) =>
    expected === undefined || (typeof expected === 'string' ? value === expected : expected.test(value ?? ''));
  return (message) =>
    like(message.parsed.subject, filter.subject) &&
    like(message.parsed.messageId, filter.messageId) &&
    like(message.parsed.text, filter.text) &&
    (filter.from === undefined || (message.parsed.from?.value ?? []).some((entry) => entry.address?.toLowerCase() === filter.from?.toLowerCase()));
}

/** Every message of one folder, oldest first. */
export async function readFolder(endpoint: TlsEndpoint, auth: Credentials, folder: string): Promise<LabMessage[]> {
  const client = imapClient(endpoint, auth);
  await client.connect();
  try {
    const opened = await client.mailboxOpen(folder, { readOnly: true });
    if (opened.exists === 0) return [];
    const found: LabMessage[] = [];
    for await (const item of client.fetch('1:*', { uid: true, source: true })) {
      if (item.source) found.push(await toMessage(auth.user, folder, item.uid, item.source));
    }
    return found;
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/**
 * The first message of the folder that passes the filter: those already there, then each
 * new one as the server announces it while the connection IDLEs (RFC 2177), never polled.
 */
export async function waitForMessage(
  endpoint: TlsEndpoint,
  auth: Credentials,
  folder: string,
  filter: MessageFilter | undefined,
  timeoutMs: number,
): Promise<{ message?: LabMessage; seen: number }> {
  const matches = matcher(filter);
  const client = imapClient(endpoint, auth);
  let seen = 0;
  let nextUid = 1;
  let wake: () => void = () => undefined;
  client.on('exists', () => wake());
  await client.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    await client.mailboxOpen(folder, { readOnly: true });
    for (;;) {
      // Woken before this fetch or during it: the next turn fetches again.
      const announced = new Promise<void>((resolve) => (wake = resolve));
      for await (const item of client.fetch(`${nextUid}:*`, { uid: true, source: true }, { uid: true })) {
        // `n:*` always returns the last message, even below n (RFC 3501 §6.4.8).
        if (item.uid < nextUid || !item.source) continue;
        nextUid = item.uid + 1;
        seen += 1;
        const message = await toMessage(auth.user, folder, item.uid, item.source);
        if (matches(message)) return { message, seen };
      }
      const left = deadline - Date.now();
      if (left <= 0) return { seen };
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        announced.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), left))),
      ]);
      clearTimeout(timer);
      if (timedOut) return { seen };
    }
  } finally {
    await client.logout().catch(() => undefined);
  }
}

/** Deletes every message of every folder of the mailbox (STORE \Deleted, EXPUNGE); the count. */
export async function emptyMailbox(endpoint: TlsEndpoint, auth: Credentials): Promise<number> {
  const client = imapClient(endpoint, auth);
  await client.connect();
  let deleted = 0;
  try {
    for (const folder of await client.list()) {
      if (folder.flags.has('\\Noselect')) continue;
      // imapflow updates the opened mailbox as the EXPUNGEs come: count first.
      const count = (await client.mailboxOpen(folder.path)).exists;
      if (count === 0) continue;
      await client.messageDelete('1:*');
      deleted += count;
    }
    return deleted;
  } finally {
    await client.logout().catch(() => undefined);
  }
}
