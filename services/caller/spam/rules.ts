/**
 * The built-in spam rules, one table, reported like SpamAssassin's (name, score,
 * description). Names follow SpamAssassin's where a SpamAssassin rule means the same,
 * so hits from spamd and from here merge by name.
 */
import type { RuleHit } from '../../../shared/caller-api.ts';
import { domainOf, extractUrls } from '../message.ts';
import type { ScanInput } from '../engines/engine.ts';
import type { LabDns } from './lab-dns.ts';
import { checkSpf, type SpfOutcome } from './spf.ts';

/** GTUBE, the spam counterpart of EICAR; split so this file is not flagged itself. */
export const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*' + 'GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
/** A subject needs this many letters before "all capitals" means shouting. */
export const MIN_SHOUTING_LETTERS = 6;

export interface SpamRulesConfig {
  blockedSenders: string[];
  blockedUrls: string[];
  manyRecipients: number;
}

export interface RuleContext {
  input: ScanInput;
  config: SpamRulesConfig;
  dns: LabDns;
  /** The envelope sender's domain, or the HELO name for the null sender (RFC 7208 §2.4). */
  senderDomain: string | undefined;
  spf(): Promise<SpfOutcome | undefined>;
  /** Notes for the engine result (rules that could not be evaluated). */
  notes: string[];
}

export interface SpamRule {
  name: string;
  score: number;
  description: string | ((context: RuleContext) => string);
  test(context: RuleContext): boolean | Promise<boolean>;
}

const hasHeader = (context: RuleContext, name: string): boolean => context.input.message.headers.some((header) => header.name === name);

export const SPAM_RULES: readonly SpamRule[] = [
  {
    name: 'GTUBE',
    score: 1000,
    description: 'BODY: Generic Test for Unsolicited Bulk Email',
    test: ({ input }) => input.message.raw.includes(GTUBE) || input.message.texts.some((body) => body.text.includes(GTUBE)),
  },
  { name: 'MISSING_DATE', score: 1.4, description: 'Missing Date: header', test: (context) => !hasHeader(context, 'date') },
  { name: 'MISSING_MID', score: 0.5, description: 'Missing Message-Id: header', test: (context) => !hasHeader(context, 'message-id') },
  { name: 'MISSING_SUBJECT', score: 1.2, description: 'Missing Subject: header', test: ({ input }) => input.message.subject === undefined },
  {
    name: 'EMPTY_SUBJECT',
    score: 1.0,
    description: 'Subject: header is empty',
    test: ({ input }) => input.message.subject !== undefined && input.message.subject.trim() === '',
  },
  {
    name: 'SUBJ_ALL_CAPS',
    score: 1.5,
    description: 'Subject is all capitals',
    test: ({ input }) => {
      const subject = input.message.subject ?? '';
      return (subject.match(/\p{Lu}/gu) ?? []).length >= MIN_SHOUTING_LETTERS && !/\p{Ll}/u.test(subject);
    },
  },
  {
    name: 'MIME_HTML_ONLY',
    score: 1.1,
    description: 'Message only has text/html MIME parts',
    test: ({ input }) => input.message.texts.length > 0 && input.message.texts.every((body) => body.contentType === 'text/html'),
  },
  {
    name: 'MANY_RCPTS',
    score: 1.5,
    description: ({ config }) => `Message has ${config.manyRecipients} or more recipients`,
    test: ({ input, config }) =>
      Math.max(input.request.rcptTo.length, new Set(input.message.headerRecipients).size) >= config.manyRecipients,
  },
  {
    name: 'BLOCKED_SENDER',
    score: 10,
    description: 'Sender is on the local block list',
    test: ({ input, config }) => {
      const senders = [input.request.mailFrom.toLowerCase(), input.message.from].filter((value): value is string => value !== undefined && value !== '');
      return senders.some((sender) => config.blockedSenders.some((entry) => (entry.includes('@') ? sender === entry : isWithin(domainOf(sender), entry))));
    },
  },
  {
    name: 'BLOCKED_URL',
    score: 6,
    description: 'Message links to a URL on the local block list',
    test: ({ input, config }) => {
      if (config.blockedUrls.length === 0) return false;
      const urls = input.message.texts.flatMap((body) => extractUrls(body.text));
      return urls.some((url) =>
        config.blockedUrls.some((entry) => {
          if (!entry.includes('/')) return isWithin(url.hostname.toLowerCase(), entry);
          const stripped = entry.replace(/^https?:\/\//, '');
          return `${url.host}${url.pathname}${url.search}`.toLowerCase().startsWith(stripped);
        }),
      );
    },
  },
  {
    name: 'SENDER_NO_MX_A',
    score: 2.0,
    description: 'Sender domain has no MX or A record in the lab DNS',
    test: async ({ input, dns, notes }) => {
      const domain = domainOf(input.request.mailFrom);
      if (domain === undefined) return false;
      try {
        if ((await dns.mx(domain)).length > 0) return false;
        return (await dns.addresses(domain, 4)).length === 0 && (await dns.addresses(domain, 6)).length === 0;
      } catch (error) {
        notes.push(`SENDER_NO_MX_A not evaluated: ${(error as Error).message}`);
        return false;
      }
    },
  },
  {
    name: 'SPF_FAIL',
    score: 3.0,
    description: 'SPF: sender does not match SPF record (fail)',
    test: async (context) => (await context.spf())?.result === 'fail',
  },
  {
    name: 'SPF_SOFTFAIL',
    score: 1.0,
    description: 'SPF: sender does not match SPF record (softfail)',
    test: async (context) => (await context.spf())?.result === 'softfail',
  },
  // The MTA's own checks (services/mta/auth), passed in the scan request; SpamAssassin's names.
  {
    name: 'DKIM_INVALID',
    score: 1.0,
    description: 'DKIM: a signature did not verify (the message changed after signing, or a forgery)',
    test: ({ input }) => (input.request.auth?.dkim ?? []).some((row) => row.result === 'fail'),
  },
  {
    name: 'DMARC_QUAR',
    score: 2.5,
    description: 'DMARC: the From domain fails DMARC and asks for quarantine',
    test: ({ input }) => input.request.auth?.dmarc.result === 'fail' && input.request.auth.dmarc.policy === 'quarantine',
  },
  {
    name: 'DMARC_REJECT',
    score: 4.0,
    description: 'DMARC: the From domain fails DMARC and asks for rejection (let through by local policy)',
    test: ({ input }) => input.request.auth?.dmarc.result === 'fail' && input.request.auth.dmarc.policy === 'reject',
  },
  {
    name: 'DMARC_NONE',
    score: 1.0,
    description: 'DMARC: the From domain fails DMARC (policy none)',
    test: ({ input }) => input.request.auth?.dmarc.result === 'fail' && (input.request.auth.dmarc.policy ?? 'none') === 'none',
  },
  {
    name: 'SPF_PASS',
    score: 0,
    description: 'SPF: sender matches SPF record',
    test: async (context) => (await context.spf())?.result === 'pass',
  },
];

/** `domain` equals `entry` or is a subdomain of it. */
function isWithin(domain: string | undefined, entry: string): boolean {
  if (domain === undefined) return false;
  const bare = entry.replace(/^\*?\./, '');
  return domain === bare || domain.endsWith(`.${bare}`);
}

/**
 * SPF where the message entered the site: mail forwarded by the site's own backup MX comes
 * from the backup's address, which no sender's SPF names; the MTA passes what the backup
 * found (its trusted ARC seal), as SpamAssassin checks SPF at the first untrusted relay.
 */
function spfAtBorder(request: RuleContext['input']['request']): Promise<SpfOutcome | undefined> | undefined {
  const forwarder = request.auth?.trustedForwarder;
  if (forwarder === undefined) return undefined;
  const domain = domainOf(request.mailFrom) ?? '';
  const results: readonly string[] = ['none', 'neutral', 'pass', 'fail', 'softfail', 'temperror', 'permerror'];
  const result = (results.includes(forwarder.spf) ? forwarder.spf : 'none') as SpfOutcome['result'];
  return Promise.resolve({ result, domain, reason: `at ${forwarder.sealer}'s backup MX, trusted ARC seal` });
}

/** Runs every rule; SPF is evaluated once, lazily, for the rules that need it. */
export async function evaluateRules(rules: readonly SpamRule[], context: Omit<RuleContext, 'spf' | 'senderDomain' | 'notes'>): Promise<{ hits: RuleHit[]; notes: string[]; spf: SpfOutcome | undefined }> {
  const { request } = context.input;
  const senderDomain = domainOf(request.mailFrom) ?? (request.helo.includes('.') ? request.helo.toLowerCase() : undefined);
  let spf: Promise<SpfOutcome | undefined> | undefined;
  const full: RuleContext = {
    ...context,
    senderDomain,
    notes: [],
    spf: () => {
      spf ??= spfAtBorder(request) ?? (senderDomain === undefined ? Promise.resolve(undefined) : checkSpf(context.dns, request.clientAddress, senderDomain));
      return spf;
    },
  };
  const hits: RuleHit[] = [];
  for (const rule of rules) {
    if (!(await rule.test(full))) continue;
    hits.push({ name: rule.name, score: rule.score, description: typeof rule.description === 'string' ? rule.description : rule.description(full) });
  }
  return { hits, notes: full.notes, spf: await full.spf() };
}
