/**
 * DKIM signing at submission (RFC 6376), before the message is queued: `d=` the domain of
 * the From address when this MTA holds keys for it, relaxed/relaxed, mailauth's header
 * set (From, Sender, Reply-To, Subject, Date, Message-ID, To, Cc, MIME and list fields),
 * one signature per key (RSA, and Ed25519 beside it, RFC 8463). Mail whose From is not
 * one of our domains goes out unsigned.
 */
import { dkimSign } from 'mailauth';
import { parseAddress } from '../../../shared/address.ts';
import { headerValue, prependHeaders } from '../smtp/message.ts';
import type { SigningKey } from './keys.ts';

export type SignOutcome =
  | { signed: true; message: Buffer; domain: string; selectors: string[] }
  | { signed: false; message: Buffer; reason: string };

/** The domain of the (first) From address, lower case; undefined when there is none. */
export function fromDomain(message: Buffer): string | undefined {
  const from = headerValue(message, 'From');
  if (from === undefined) return undefined;
  const angle = /<([^<>]*)>/u.exec(from)?.[1] ?? from.split(',')[0]?.trim() ?? '';
  const parsed = parseAddress(angle);
  return parsed.ok ? parsed.address.domain.toLowerCase() : undefined;
}

/** The keys to sign a domain's mail with: a Map, or the MTA's key store (key-store.ts). */
export interface SigningKeys {
  get(domain: string): readonly SigningKey[] | undefined;
}

export async function signMessage(message: Buffer, keys: SigningKeys, now: Date = new Date()): Promise<SignOutcome> {
  const domain = fromDomain(message);
  if (domain === undefined) return { signed: false, message, reason: 'no From address' };
  const domainKeys = keys.get(domain);
  if (!domainKeys?.[0]) return { signed: false, message, reason: `no key for ${domain}` };
  const first = domainKeys[0];
  const result = await dkimSign(message, {
    // mailauth signs with each signatureData entry; its types also want the first one at the top.
    signingDomain: first.domain,
    selector: first.selector,
    privateKey: first.privateKey,
    canonicalization: 'relaxed/relaxed',
    signTime: now,
    signatureData: domainKeys.map((key) => ({
      signingDomain: key.domain,
      selector: key.selector,
      privateKey: key.privateKey,
      algorithm: key.algorithm,
      canonicalization: 'relaxed/relaxed',
    })),
  });
  if (result.errors.length > 0 || result.signatures === '') {
    const why = result.errors.map((error) => `${error.selector ?? '?'}: ${error.err.message}`).join('; ');
    return { signed: false, message, reason: `signing failed: ${why || 'no signature made'}` };
  }
  return { signed: true, message: prependHeaders(message, [result.signatures]), domain, selectors: domainKeys.map((key) => key.selector) };
}
