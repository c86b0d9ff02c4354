/**
 * Who may send what to whom, shared by the MX and submission listeners. Never an open
 * relay: without AUTH, RCPT is accepted only for local domains (whose users must exist)
 * and backed-up relay domains; with AUTH, any recipient, but only from the user's own
 * addresses. Each check returns the canonical address or throws an SmtpReplyError.
 */
import { parseAddress } from '../../../shared/address.ts';
import type { Account, UserDirectory } from '../../../shared/users.ts';
import { replyError } from './replies.ts';

export interface PolicyOptions {
  localDomains: readonly string[];
  relayDomains: readonly string[];
  /** Relay domains whose recipients must be in `users` (a backup MX's relay_recipient_maps). */
  relayRecipients?: readonly string[];
  users: UserDirectory;
}

export class MailPolicy {
  private readonly localDomains: Set<string>;
  private readonly relayDomains: Set<string>;
  private readonly checkedRelayDomains: Set<string>;
  private readonly users: UserDirectory;

  constructor(options: PolicyOptions) {
    this.localDomains = new Set(options.localDomains.map((domain) => domain.toLowerCase()));
    this.relayDomains = new Set(options.relayDomains.map((domain) => domain.toLowerCase()));
    this.checkedRelayDomains = new Set((options.relayRecipients ?? []).map((domain) => domain.toLowerCase()));
    this.users = options.users;
  }

  isLocalDomain(domain: string): boolean {
    return this.localDomains.has(domain);
  }

  /**
   * RFC 5321 §4.5.1: `RCPT TO:<Postmaster>` without a domain must be accepted; it is the
   * postmaster of the first local domain (of the first relay domain on a backup MX).
   */
  private qualifyPostmaster(address: string): string {
    if (address.toLowerCase() !== 'postmaster') return address;
    const domain = this.localDomains.values().next().value ?? this.relayDomains.values().next().value;
    return domain === undefined ? address : `postmaster@${domain}`;
  }

  /** MAIL FROM on the MX: any syntactically valid sender, or the null sender (RFC 5321 §4.5.5). */
  inboundSender(address: string): string {
    if (address === '') return '';
    const parsed = parseAddress(address);
    if (!parsed.ok) throw replyError('badSender', parsed.reason);
    return parsed.address.canonical;
  }

  /**
   * RCPT TO without AUTH: local users and relay domains only; `550 5.7.1` for the rest.
   * A relay domain with a recipient list takes only its known users (`550 5.1.1`).
   */
  async inboundRecipient(address: string): Promise<string> {
    const parsed = parseAddress(this.qualifyPostmaster(address));
    if (!parsed.ok) throw replyError('badRecipient', parsed.reason);
    const { domain, canonical } = parsed.address;
    if (this.relayDomains.has(domain) && !this.localDomains.has(domain)) {
      if (this.checkedRelayDomains.has(domain) && !(await this.users.resolve(canonical))) throw replyError('unknownRelayUser');
      return canonical;
    }
    if (!this.localDomains.has(domain)) throw replyError('relayDenied');
    if (!(await this.users.resolve(canonical))) throw replyError('unknownUser');
    return canonical;
  }

  /** MAIL FROM on submission: one of the user's own addresses (its own or an alias). */
  async submissionSender(account: Account, address: string): Promise<string> {
    if (address === '') throw replyError('senderNotOwned');
    const parsed = parseAddress(address);
    if (!parsed.ok) throw replyError('badSender', parsed.reason);
    const owned = await this.users.addressesOf(account);
    if (!owned.includes(parsed.address.canonical)) throw replyError('senderNotOwned');
    return parsed.address.canonical;
  }

  /** Every address the login may send as: its own and its aliases. */
  ownAddresses(account: Account): Promise<string[]> {
    return this.users.addressesOf(account);
  }

  /** RCPT TO after AUTH: any domain; local recipients must still exist (refused at RCPT, not bounced later). */
  async submissionRecipient(address: string): Promise<string> {
    const parsed = parseAddress(this.qualifyPostmaster(address));
    if (!parsed.ok) throw replyError('badRecipient', parsed.reason);
    if (this.localDomains.has(parsed.address.domain) && !(await this.users.resolve(parsed.address.canonical))) {
      throw replyError('unknownUser');
    }
    return parsed.address.canonical;
  }

  async authenticate(username: string, password: string): Promise<Account | undefined> {
    return this.users.authenticate(username, password);
  }
}
