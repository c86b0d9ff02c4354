/**
 * Fills a Maildir with generated messages, written straight into new/ in one tight
 * synchronous loop (the benchmark's setup, not its measurement). Names follow the MDA's
 * pattern `<secs>.M<usecs>P<pid>Q<n>R<rand>.<host>,S=<size>` with increasing times, so
 * delivery order is the generation order and every name is unique.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MAILDIR_SUBDIRS = ['cur', 'new', 'tmp'] as const;
const LINE = 'The quick brown fox jumps over the lazy dog while the mail queue drains. 0123\r\n';

export interface GeneratedMessage {
  from: string;
  to: string;
  subject: string;
  messageId: string;
  date: Date;
}

/** A plain-text message of about `bodyBytes` body octets, CRLF line ends, no leading dots. */
export function buildMessage(meta: GeneratedMessage, bodyBytes: number): Buffer {
  const head =
    `From: ${meta.from}\r\nTo: ${meta.to}\r\nSubject: ${meta.subject}\r\n` +
    `Date: ${meta.date.toUTCString().replace('GMT', '+0000')}\r\nMessage-ID: ${meta.messageId}\r\n` +
    'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n';
  const lines = Math.max(1, Math.round(bodyBytes / LINE.length));
  return Buffer.from(head + LINE.repeat(lines), 'latin1');
}

export function ensureMaildirDirs(maildir: string): void {
  for (const sub of MAILDIR_SUBDIRS) mkdirSync(join(maildir, sub), { recursive: true, mode: 0o700 });
}

export interface FillOptions {
  maildir: string;
  count: number;
  bodyBytes: number;
  to: string;
  /** Label in the unique names and Message-IDs, to tell runs apart. */
  label: string;
}

/** Writes `count` messages; returns how long it took in milliseconds. */
export function fillMaildir(options: FillOptions): number {
  const started = performance.now();
  ensureMaildirDirs(options.maildir);
  const newDir = join(options.maildir, 'new');
  const random = randomBytes(4).toString('hex');
  const baseSeconds = Math.floor(Date.now() / 1000) - Math.ceil(options.count / 1000) - 1;
  const body = buildMessage({ from: 'x', to: 'x', subject: 'x', messageId: 'x', date: new Date(0) }, options.bodyBytes);
  const bodyStart = body.indexOf('\r\n\r\n') + 4;
  const bodyText = body.subarray(bodyStart);
  for (let i = 0; i < options.count; i += 1) {
    const seconds = baseSeconds + Math.floor(i / 1000);
    const head = Buffer.from(
      `From: Bench Sender <sender${i % 97}@bench.example>\r\nTo: ${options.to}\r\n` +
        `Subject: ${options.label} message ${i + 1}\r\nDate: ${new Date(seconds * 1000).toUTCString().replace('GMT', '+0000')}\r\n` +
        `Message-ID: <${options.label}.${i + 1}.${random}@bench.example>\r\n` +
        'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n',
      'latin1',
    );
    const size = head.length + bodyText.length;
    const name = `${seconds}.M${(i % 1000) * 1000}P${process.pid}Q${i + 1}R${random}${i.toString(16).padStart(8, '0')}.bench,S=${size}`;
    writeFileSync(join(newDir, name), Buffer.concat([head, bodyText], size));
  }
  return performance.now() - started;
}
