/**
 * Test helper: sample messages and scan inputs. EICAR and GTUBE come from the engines'
 * own constants, so no test file carries the test signatures literally.
 */
import type { ScanRequest } from '../../../shared/caller-api.ts';
import { EICAR } from '../engines/eicar.ts';
import type { ScanInput } from '../engines/engine.ts';
import { readMessage } from '../message.ts';
import { GTUBE } from '../spam/rules.ts';

export const EICAR_TEXT = EICAR.toString('latin1');
export { GTUBE };

export function scanRequest(overrides: Partial<ScanRequest> = {}): ScanRequest {
  return {
    queueId: 'Q1',
    clientAddress: '127.28.0.10',
    helo: 'mx.alpha.test',
    mailFrom: 'alice@alpha.test',
    rcptTo: ['bob@beta.test'],
    policy: { tagScore: 5, rejectScore: null },
    ...overrides,
  };
}

/** A well-formed plain-text message; `headers` replace or add fields (null removes one). */
export function message(body: string, headers: Record<string, string | null> = {}): Buffer {
  const fields: Record<string, string | null> = {
    From: 'Alice <alice@alpha.test>',
    To: 'Bob <bob@beta.test>',
    Subject: 'Lunch on Friday',
    Date: 'Mon, 23 Nov 2026 10:00:00 +0000',
    'Message-ID': '<m1@alpha.test>',
    'MIME-Version': '1.0',
    'Content-Type': 'text/plain; charset=utf-8',
    ...headers,
  };
  const head = Object.entries(fields)
    .filter((entry): entry is [string, string] => entry[1] !== null)
    .map(([name, value]) => `${name}: ${value}`)
    .join('\r\n');
  return Buffer.from(`${head}\r\n\r\n${body}`, 'utf8');
}

/** multipart/mixed with a text part and one attachment in the given transfer encoding. */
export function withAttachment(filename: string, data: Buffer, encoding: 'base64' | 'quoted-printable', contentType = 'application/octet-stream'): Buffer {
  const encoded = encoding === 'base64' ? (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n') : encodeAllQuotedPrintable(data);
  const body = [
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'See the attachment.',
    '--b1',
    `Content-Type: ${contentType}; name="${filename}"`,
    `Content-Disposition: attachment; filename="${filename}"`,
    `Content-Transfer-Encoding: ${encoding}`,
    '',
    encoded,
    '--b1--',
    '',
  ].join('\r\n');
  return message(body, { 'Content-Type': 'multipart/mixed; boundary="b1"' });
}

/** Quoted-printable with every octet encoded, so the raw message never holds the plain bytes. */
export function encodeAllQuotedPrintable(data: Buffer): string {
  const hex = [...data].map((byte) => `=${byte.toString(16).toUpperCase().padStart(2, '0')}`).join('');
  return (hex.match(/.{1,72}/g) ?? []).join('=\r\n');
}

export function scanInput(raw: Buffer, request: Partial<ScanRequest> = {}): ScanInput {
  return { request: scanRequest(request), message: readMessage(raw) };
}
