/**
 * The lab a MailLab starts (compose/lab.yaml): its agents, the host number each keeps on
 * the lab's /24, the ports each publishes with their TLS mode, the log line that says it
 * serves, and the lab users. The repository's shared/lab.ts is the source; world.test.ts
 * checks that this table still matches it.
 */

export const AGENTS = ['dns', 'caller', 'alpha-mta', 'alpha-mda', 'alpha-mra', 'beta-mx1', 'beta-mx2', 'beta-mda', 'beta-mra', 'mua'] as const;
export type AgentName = (typeof AGENTS)[number];

export const MTAS = ['alpha-mta', 'beta-mx1', 'beta-mx2'] as const;
export type MtaName = (typeof MTAS)[number];

/** `none`: plain; `starttls`: plain, then STARTTLS (required for AUTH); `implicit`: TLS from the first byte. */
export type TlsMode = 'none' | 'starttls' | 'implicit';

export type Protocol = 'dns' | 'smtp' | 'submission' | 'submissions' | 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'http' | 'admin';

export interface PortSpec {
  protocol: Protocol;
  port: number;
  tls: TlsMode;
  transport?: 'tcp' | 'udp';
}

export interface AgentSpec {
  /** Last octet on the lab's /24 (compose.yaml's 172.28.0.X). */
  host: number;
  ports: readonly PortSpec[];
  /** The agent logs this once per listener when it serves; `count` lines mean ready. */
  ready: { pattern: RegExp; count: number };
}

const MTA_PORTS: readonly PortSpec[] = [
  { protocol: 'smtp', port: 25, tls: 'starttls' },
  { protocol: 'submission', port: 587, tls: 'starttls' },
  { protocol: 'submissions', port: 465, tls: 'implicit' },
  { protocol: 'admin', port: 8026, tls: 'none' },
];
const MRA_PORTS: readonly PortSpec[] = [
  { protocol: 'imap', port: 143, tls: 'starttls' },
  { protocol: 'imaps', port: 993, tls: 'implicit' },
  { protocol: 'pop3', port: 110, tls: 'starttls' },
  { protocol: 'pop3s', port: 995, tls: 'implicit' },
];
const MTA_READY = { pattern: /"msg":"MTA started"/u, count: 1 };
const MDA_READY = { pattern: /"msg":"MDA ready"/u, count: 1 };
/** imap, imaps, pop3 and pop3s each log `<name> listening`. */
const MRA_READY = { pattern: /"msg":"(?:imaps?|pop3s?) listening"/u, count: 4 };

export const AGENT_SPECS: Record<AgentName, AgentSpec> = {
  dns: {
    host: 2,
    ports: [
      { protocol: 'dns', port: 53, tls: 'none', transport: 'udp' },
      { protocol: 'dns', port: 53, tls: 'none', transport: 'tcp' },
    ],
    ready: { pattern: /"msg":"dns listening"/u, count: 1 },
  },
  caller: { host: 5, ports: [], ready: { pattern: /"msg":"caller ready"/u, count: 1 } },
  mua: { host: 6, ports: [{ protocol: 'http', port: 8080, tls: 'none' }], ready: { pattern: /"msg":"web mail listening"/u, count: 1 } },
  'alpha-mta': { host: 10, ports: MTA_PORTS, ready: MTA_READY },
  'alpha-mda': { host: 11, ports: [], ready: MDA_READY },
  'alpha-mra': { host: 12, ports: MRA_PORTS, ready: MRA_READY },
  'beta-mx1': { host: 20, ports: MTA_PORTS, ready: MTA_READY },
  'beta-mx2': {
    host: 21,
    ports: [
      { protocol: 'smtp', port: 25, tls: 'starttls' },
      { protocol: 'admin', port: 8026, tls: 'none' },
    ],
    ready: MTA_READY,
  },
  'beta-mda': { host: 22, ports: [], ready: MDA_READY },
  'beta-mra': { host: 23, ports: MRA_PORTS, ready: MRA_READY },
};

export const LAB_PASSWORD = 'secret';

/** The users every lab has (password `secret`); postmaster@ each domain is its first user. */
export const LAB_USERS = ['alice@alpha.test', 'bob@beta.test', 'carol@beta.test'] as const;

export type MailDomain = 'alpha.test' | 'beta.test';

/** Where a domain's users submit and read, and the names on those agents' certificates. */
export const DOMAINS: Record<MailDomain, { submission: MtaName; mra: AgentName; smtpName: string; imapName: string; popName: string }> = {
  'alpha.test': { submission: 'alpha-mta', mra: 'alpha-mra', smtpName: 'smtp.alpha.test', imapName: 'imap.alpha.test', popName: 'pop.alpha.test' },
  'beta.test': { submission: 'beta-mx1', mra: 'beta-mra', smtpName: 'smtp.beta.test', imapName: 'imap.beta.test', popName: 'pop.beta.test' },
};

/** The lab domain of an address, or an error naming the domains a lab has. */
export function domainOf(address: string): MailDomain {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  if (domain === 'alpha.test' || domain === 'beta.test') return domain;
  throw new Error(`${JSON.stringify(address)} is not an address of the lab: its users are @alpha.test and @beta.test`);
}
