/**
 * Submission's author check (issue 19, item 6): the envelope sender is one of the login's
 * addresses (policy.ts), and so must be every address of the `From:` and `Sender:`
 * fields (RFC 5322 §3.6.2), as Postfix's reject_sender_login_mismatch does for the
 * envelope and Exchange's "send as" permission for the header. Otherwise alice could
 * send mail that shows `From: carol@beta.test`.
 */
import addressparser from 'nodemailer/lib/addressparser';
import { parseAddress } from '../../../shared/address.ts';
import { readHeader, unfold } from '../../../shared/message/headers.ts';

/** The author fields checked; Resent-* fields are not used by our clients. */
const AUTHOR_FIELDS = new Set(['from', 'sender']);

/** Every address in the message's From and Sender fields, canonical where it parses. */
export function authorAddresses(message: Buffer): string[] {
  const found: string[] = [];
  for (const field of readHeader(message, Number.POSITIVE_INFINITY)) {
    if (!AUTHOR_FIELDS.has(field.key)) continue;
    for (const entry of addressparser(unfold(field.raw), { flatten: true })) {
      const parsed = parseAddress(entry.address ?? '');
      found.push(parsed.ok ? parsed.address.canonical : (entry.address ?? entry.name ?? ''));
    }
  }
  return found;
}

/** The first author address the login may not use, or undefined when all are its own. */
export function foreignAuthor(message: Buffer, owned: readonly string[]): string | undefined {
  const own = new Set(owned.map((address) => address.toLowerCase()));
  return authorAddresses(message).find((address) => !own.has(address.toLowerCase()));
}
