/**
 * What the MX port checks before the caller (RFC 7208 SPF of MAIL FROM and HELO,
 * RFC 6376 DKIM of every signature, RFC 7489 DMARC with alignment, RFC 8617 ARC), all by
 * mailauth, and what it makes of them: one RFC 8601 Authentication-Results field for the
 * top of the message, the ARC set where this MTA seals (the backup MX), and an action.
 *
 * - DMARC fail under `p=reject` → 550 5.7.1, nothing queued; `p=quarantine` → delivered
 *   with X-Mxlab-Quarantine, which the MDA files into Junk; `p=none` → delivered, noted.
 * - A DNS failure is `temperror`, never a pass: DMARC temperror, or a DMARC that did not
 *   pass while SPF or a DKIM key lookup failed temporarily → 451 4.4.3, try again later.
 * - Local policy (RFC 7489 §6.7): a DMARC failure is forgiven when the ARC chain passes and
 *   its newest seal comes from a trusted sealer (MTA_ARC_TRUSTED_SEALERS) whose
 *   ARC-Authentication-Results said dmarc=pass, as when the lab's backup MX forwards.
 */
import { authenticate, spf } from 'mailauth';
import type { AuthenticateResult, DNSResolver } from 'mailauth';
import type { AuthResolver } from './dns.ts';
import type { SigningKey } from './keys.ts';
import { removeHeaderFields } from './headers.ts';

export type AuthAction = 'accept' | 'quarantine' | 'reject' | 'tempfail';

/** The header the MTA adds for a DMARC quarantine; the MDA files such mail into Junk. */
export const QUARANTINE_HEADER = 'X-Mxlab-Quarantine';

export interface VerifySettings {
  /** RFC 8601 §2.5 authserv-id: MTA_AUTHSERV_ID, by default the MTA's host name. */
  authservId: string;
  resolver: AuthResolver;
  /** ARC sealer domains (the seal's d=) whose word on DMARC this MTA takes. */
  trustedSealers: readonly string[];
  /** Where this MTA seals (the backup MX): its ARC key. */
  seal?: SigningKey;
}

export interface Envelope {
  clientAddress: string;
  helo: string;
  /** '' for the null sender. */
  mailFrom: string;
}

/** The results in short, for logs, the caller's score and tests. */
export interface AuthSummary {
  spf: string;
  helo: string;
  dkim: { domain: string; selector: string; result: string }[];
  dmarc: { result: string; policy?: string; domain?: string };
  arc: string;
  /**
   * Set when the ARC chain holds and its newest seal is a trusted sealer's (the lab's own
   * backup MX): what that border MX found for SPF, where the message entered. SPF here,
   * from the backup's address, fails by design and says nothing about the sender.
   */
  trustedForwarder?: { sealer: string; spf: string };
}

export interface AuthVerdict {
  action: AuthAction;
  /** Why, in words (SMTP reply text for reject/tempfail, log line otherwise). */
  reason: string;
  /** The ARC set this MTA sealed (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results), each field ending in CRLF; for the very top, above this hop's Received. */
  arcSet: string[];
  /** Authentication-Results, then the quarantine note if any: for right below this hop's Received. */
  trace: string[];
  /** The message without fields claiming our authserv-id or our quarantine note. */
  message: Buffer;
  summary: AuthSummary;
}

const resultOf = (status: { result?: string } | undefined): string => status?.result ?? 'none';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&');
}

/** RFC 8601 §5: fields that claim our authserv-id and came from outside are removed. */
export function stripOurFields(message: Buffer, authservId: string): Buffer {
  const ours = new RegExp(`^\\s*(?:\\([^)]*\\)\\s*)*${escapeRegExp(authservId)}(?:\\s+\\d+)?\\s*(?:;|$)`, 'iu');
  return removeHeaderFields(message, (name, value) => (name === 'authentication-results' && ours.test(value)) || name === QUARANTINE_HEADER.toLowerCase());
}

function summarize(result: AuthenticateResult, heloResult: string): AuthSummary {
  const dmarc = result.dmarc;
  return {
    spf: resultOf(result.spf ? result.spf.status : undefined),
    helo: heloResult,
    dkim: (result.dkim.results ?? []).map((row) => ({ domain: row.signingDomain ?? '', selector: row.selector ?? '', result: resultOf(row.status) })),
    dmarc: dmarc
      ? { result: resultOf(dmarc.status), ...(dmarc.policy ? { policy: dmarc.policy } : {}), ...(dmarc.domain ? { domain: dmarc.domain } : {}) }
      : { result: 'none' },
    arc: resultOf(result.arc ? result.arc.status : undefined),
  };
}

type TrustedSeal = { sealer: string; aar: { dmarc?: { result?: string }; spf?: { result?: string } } };

/** The chain holds and its newest seal is by a trusted sealer: that sealer and its ARC-Authentication-Results. */
function trustedSeal(result: AuthenticateResult, trusted: readonly string[]): TrustedSeal | undefined {
  const arc = result.arc;
  if (!arc || resultOf(arc.status) !== 'pass') return undefined;
  const sealer = arc.signature ? arc.signature.signingDomain?.toLowerCase() : undefined;
  if (sealer === undefined || !trusted.some((domain) => domain.toLowerCase() === sealer)) return undefined;
  return { sealer, aar: (arc.authenticationResults ?? {}) as { dmarc?: { result?: string }; spf?: { result?: string } } };
}

/** `seal`: the trusted sealer's, when the chain holds (a DMARC failure it saw pass is forgiven). */
function decide(summary: AuthSummary, seal: TrustedSeal | undefined): { action: AuthAction; reason: string; note?: string } {
  const { dmarc } = summary;
  const domain = dmarc.domain ?? 'the From domain';
  if (dmarc.result === 'temperror') return { action: 'tempfail', reason: `DMARC check of ${domain} failed temporarily (DNS), try again later` };
  if (dmarc.result !== 'pass' && (summary.spf === 'temperror' || summary.dkim.some((row) => row.result === 'temperror'))) {
    return { action: 'tempfail', reason: 'SPF or DKIM check failed temporarily (DNS), try again later' };
  }
  if (dmarc.result !== 'fail') return { action: 'accept', reason: `dmarc=${dmarc.result}` };
  const why = `From domain ${domain} fails DMARC (spf=${summary.spf}, dkim=${summary.dkim.filter((row) => row.domain !== '').map((row) => `${row.result} d=${row.domain}`).join(',') || 'none'}, not aligned)`;
  const sealer = seal?.aar.dmarc?.result === 'pass' ? seal.sealer : undefined;
  if (sealer !== undefined) return { action: 'accept', reason: `${why}; forgiven: trusted ARC sealer ${sealer} saw dmarc=pass`, note: `local policy: trusted ARC sealer ${sealer}` };
  if (dmarc.policy === 'reject') return { action: 'reject', reason: `${why}, and its policy is p=reject` };
  if (dmarc.policy === 'quarantine') return { action: 'quarantine', reason: `${why}, and its policy is p=quarantine` };
  return { action: 'accept', reason: `${why}; policy p=${dmarc.policy ?? 'none'}, delivered` };
}

/**
 * RFC 7208 §2.3: the HELO identity, when it is a domain name. For a null MAIL FROM (a
 * bounce) mailauth's SPF check is already the HELO's (§2.4: postmaster@<helo>), so it is
 * not asked twice.
 */
async function checkHelo(envelope: Envelope, settings: VerifySettings): Promise<{ result: string; info?: string }> {
  if (envelope.mailFrom === '') return { result: 'none' };
  const helo = envelope.helo.trim().toLowerCase();
  if (!/^[a-z0-9-]+(?:\.[a-z0-9-]+)+$/u.test(helo) || /^[\d.]+$/u.test(helo)) return { result: 'none' };
  const outcome = await spf({ ip: envelope.clientAddress, helo, mta: settings.authservId, resolver: settings.resolver, strict: true } as Parameters<typeof spf>[0]);
  const result = resultOf(outcome.status);
  return { result, info: `spf=${result} smtp.helo=${helo}` };
}

export async function verifyInbound(raw: Buffer, envelope: Envelope, settings: VerifySettings): Promise<AuthVerdict> {
  const message = stripOurFields(raw, settings.authservId);
  const [result, helo] = await Promise.all([
    authenticate(message, {
      ip: envelope.clientAddress,
      helo: envelope.helo,
      sender: envelope.mailFrom,
      mta: settings.authservId,
      // node's resolve() answers; mailauth's type names only the TXT shapes.
      resolver: settings.resolver as DNSResolver,
      disableBimi: true,
      // RFC-exact results: a body hash mismatch is dkim=fail, DKIM reports header.d (RFC 8601 §2.7.1).
      strict: true,
      ...(settings.seal ? { seal: { signingDomain: settings.seal.domain, selector: settings.seal.selector, privateKey: settings.seal.privateKey } } : {}),
    }),
    checkHelo(envelope, settings),
  ]);
  // A bounce's SPF result is its HELO's already.
  const summary = summarize(result, envelope.mailFrom === '' ? resultOf(result.spf ? result.spf.status : undefined) : helo.result);
  const seal = trustedSeal(result, settings.trustedSealers);
  if (seal) summary.trustedForwarder = { sealer: seal.sealer, spf: seal.aar.spf?.result ?? 'none' };
  const decision = decide(summary, seal);
  const fields = splitFields(result.headers);
  const arcSet = fields.filter((field) => /^arc-/iu.test(field));
  const trace = fields.filter((field) => /^authentication-results:/iu.test(field)).map((field) => extendResults(field, helo.info, decision.note));
  if (decision.action === 'quarantine') trace.push(`${QUARANTINE_HEADER}: ${decision.reason}\r\n`);
  return { action: decision.action, reason: decision.reason, arcSet, trace, message, summary };
}

/** mailauth's header block, one string per field (folded lines kept), each ending in CRLF. */
function splitFields(block: string): string[] {
  const fields: string[] = [];
  for (const line of block.split(/\r\n/u)) {
    if (line === '') continue;
    if (/^[ \t]/u.test(line) && fields.length > 0) fields[fields.length - 1] += `${line}\r\n`;
    else fields.push(`${line}\r\n`);
  }
  return fields;
}

function extendResults(field: string, heloInfo: string | undefined, note: string | undefined): string {
  let text = field.replace(/\r\n$/u, '');
  if (heloInfo) text += `;\r\n ${heloInfo}`;
  if (note) text = text.replace(/(\r\n dmarc=\S+)/u, `$1 (${note})`);
  return `${text}\r\n`;
}
