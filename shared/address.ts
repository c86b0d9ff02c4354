/**
 * Mail address parsing (RFC 5321 §4.1.2 Mailbox, RFC 5322 §3.4.1) with the extra rule
 * of a mail store: nothing that could name a path outside a Maildir is accepted.
 * Domains are lower-cased and IDNs turned into punycode (RFC 5891).
 */
import { domainToASCII } from 'node:url';

/** RFC 5321 §4.5.3.1.1 and §4.5.3.1.2 */
export const MAX_LOCAL_PART_OCTETS = 64;
export const MAX_DOMAIN_OCTETS = 255;

export interface Address {
  /** Local part as given (quotes removed). */
  local: string;
  /** Lower-cased ASCII (punycode) domain. */
  domain: string;
  /** `local@domain` with the local part lower-cased: the key used for lookups. */
  canonical: string;
}

export type AddressResult = { ok: true; address: Address } | { ok: false; reason: string };

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\uFFFF]+$/u;
const CONTROL = /[\u0000-\u001f\u007f]/u;
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

function parseLocalPart(text: string): { ok: true; local: string } | { ok: false; reason: string } {
  if (text === '') return { ok: false, reason: 'empty local part' };
  let local: string;
  if (text.startsWith('"')) {
    if (text.length < 2 || !text.endsWith('"')) return { ok: false, reason: 'unterminated quoted local part' };
    local = text.slice(1, -1).replace(/\\(.)/gsu, '$1');
  } else {
    const atoms = text.split('.');
    if (atoms.some((atom) => atom === '' || !ATEXT.test(atom))) {
      return { ok: false, reason: 'local part is not a dot-atom' };
    }
    local = text;
  }
  if (local === '') return { ok: false, reason: 'empty local part' };
  if (CONTROL.test(local)) return { ok: false, reason: 'control character in local part' };
  if (local.includes('/') || local.includes('\\')) return { ok: false, reason: 'path separator in local part' };
  if (local.includes('..') || local.startsWith('.') || local.endsWith('.')) {
    return { ok: false, reason: 'dots in local part could name another folder' };
  }
  if (Buffer.byteLength(local) > MAX_LOCAL_PART_OCTETS) return { ok: false, reason: 'local part too long' };
  return { ok: true, local };
}

export function normalizeDomain(text: string): { ok: true; domain: string } | { ok: false; reason: string } {
  let raw = text.trim();
  if (raw.endsWith('.')) raw = raw.slice(0, -1);
  if (raw === '') return { ok: false, reason: 'empty domain' };
  if (CONTROL.test(raw) || /[/\\\s]/u.test(raw)) return { ok: false, reason: 'invalid character in domain' };
  if (raw.startsWith('[')) return { ok: false, reason: 'address literals are not accepted' };
  const ascii = domainToASCII(raw.toLowerCase());
  if (ascii === '') return { ok: false, reason: 'invalid domain' };
  if (ascii.length > MAX_DOMAIN_OCTETS) return { ok: false, reason: 'domain too long' };
  const labels = ascii.split('.');
  if (labels.length < 2 || labels.some((label) => !LABEL.test(label))) {
    return { ok: false, reason: 'invalid domain' };
  }
  return { ok: true, domain: ascii };
}

/** Parses `local@domain` (optionally in angle brackets). */
export function parseAddress(input: string): AddressResult {
  let text = input.trim();
  if (text.startsWith('<') && text.endsWith('>')) text = text.slice(1, -1).trim();
  if (CONTROL.test(text)) return { ok: false, reason: 'control character in address' };
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, reason: 'address must be local@domain' };
  const local = parseLocalPart(text.slice(0, at));
  if (!local.ok) return local;
  const domain = normalizeDomain(text.slice(at + 1));
  if (!domain.ok) return domain;
  return {
    ok: true,
    address: {
      local: local.local,
      domain: domain.domain,
      canonical: `${local.local.toLowerCase()}@${domain.domain}`,
    },
  };
}

/** Throws on an invalid address; for trusted configuration, not for wire input. */
export function mustParseAddress(input: string): Address {
  const result = parseAddress(input);
  if (!result.ok) throw new Error(`invalid address ${JSON.stringify(input)}: ${result.reason}`);
  return result.address;
}
