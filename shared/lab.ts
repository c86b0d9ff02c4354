/**
 * The lab world of DESIGN.md in one place: domains, users, hosts and their addresses in
 * both modes, and the host endpoints. The zone files, the no-Docker launcher, the tests
 * and compose.yaml follow this table.
 *
 * Address plan: compose puts every agent on 172.28.0.0/24; the no-Docker mode gives each
 * agent the loopback address with the same last two octets, 127.28.0.X (Linux routes all
 * of 127.0.0.0/8 to lo). `toLoopback` is the only rule that maps one to the other.
 */

/**
 * The mail domains with users. beta.test: primary + backup MX. gamma.test (profile
 * `cluster`): MX 10 mx1 (two A records, two MTAs), MX 20 mx2 and MX 20 mx3 (equal
 * backups). direct.gamma.test: no MX, an A record whose host (gamma-mx3) takes its mail
 * (implicit MX). delta.test (profile `cluster`): its own primary and beta-mx2, another
 * organisation's server, as backup. null.test publishes a null MX and has no users.
 */
export const LAB_DOMAINS = ['alpha.test', 'beta.test', 'gamma.test', 'direct.gamma.test', 'delta.test'] as const;
export type LabDomain = (typeof LAB_DOMAINS)[number];

/** Optional parts of the lab: `npm start` with MXLAB_PROFILES=cluster, compose with COMPOSE_PROFILES=cluster. */
export const LAB_PROFILES = ['cluster'] as const;
export type LabProfile = (typeof LAB_PROFILES)[number];

/** The profiles MXLAB_PROFILES turns on (comma-separated; unknown names are an error). */
export function labProfiles(env: NodeJS.ProcessEnv = process.env): Set<LabProfile> {
  const names = (env.MXLAB_PROFILES ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) {
    if (!(LAB_PROFILES as readonly string[]).includes(name)) throw new Error(`MXLAB_PROFILES: unknown profile ${JSON.stringify(name)} (known: ${LAB_PROFILES.join(', ')})`);
  }
  return new Set(names as LabProfile[]);
}

export const LAB_DEFAULT_PASSWORD = 'secret';

/** Users per domain; the first one also receives postmaster@. */
export const LAB_USERS: Record<LabDomain, readonly string[]> = {
  'alpha.test': ['alice'],
  'beta.test': ['bob', 'carol'],
  'gamma.test': ['dave', 'erin'],
  'direct.gamma.test': ['frank'],
  'delta.test': ['grace'],
};

export const COMPOSE_SUBNET = '172.28.0.0/24';

/**
 * The loopback network of the no-Docker mode: `127.28` unless MXLAB_LOOPBACK_NET names
 * another `127.X` (so a second lab, e.g. a test's, can run beside the first).
 */
export function loopbackNet(env: NodeJS.ProcessEnv = process.env): string {
  const net = env.MXLAB_LOOPBACK_NET ?? '127.28';
  if (!/^127\.(?:25[0-5]|2[0-4]\d|1?\d?\d)$/u.test(net)) throw new Error(`MXLAB_LOOPBACK_NET must look like 127.28, got ${net}`);
  return net;
}

export function toLoopback(composeAddress: string, net: string = loopbackNet()): string {
  const parts = composeAddress.split('.');
  if (parts.length !== 4 || parts[0] !== '172' || parts[1] !== '28') {
    throw new Error(`not a lab compose address: ${composeAddress}`);
  }
  return `${net}.${parts[2]}.${parts[3]}`;
}

export type AgentName =
  | 'dns'
  | 'clamav'
  | 'spamassassin'
  | 'caller'
  | 'mua'
  | 'alpha-mta'
  | 'alpha-mda'
  | 'alpha-mra'
  | 'beta-mx1'
  | 'beta-mx2'
  | 'beta-mda'
  | 'beta-mra'
  | 'gamma-mx1a'
  | 'gamma-mx1b'
  | 'gamma-mx2'
  | 'gamma-mx3'
  | 'gamma-mda'
  | 'gamma-mra'
  | 'delta-mx';

/** Compose address of each agent (the zones' A records point here). */
export const AGENT_ADDRESSES: Record<AgentName, string> = {
  dns: '172.28.0.2',
  caller: '172.28.0.5',
  /** Real engines, compose's optional `engines` profile only. */
  clamav: '172.28.0.7',
  spamassassin: '172.28.0.8',
  mua: '172.28.0.6',
  'alpha-mta': '172.28.0.10',
  'alpha-mda': '172.28.0.11',
  'alpha-mra': '172.28.0.12',
  'beta-mx1': '172.28.0.20',
  'beta-mx2': '172.28.0.21',
  'beta-mda': '172.28.0.22',
  'beta-mra': '172.28.0.23',
  /** Profile `cluster`: the two A records of mx1.gamma.test, its two backups, gamma's MDA and MRA. */
  'gamma-mx1a': '172.28.0.30',
  'gamma-mx1b': '172.28.0.31',
  'gamma-mx2': '172.28.0.32',
  'gamma-mx3': '172.28.0.33',
  /** Mailboxes of gamma.test, direct.gamma.test and delta.test. */
  'gamma-mda': '172.28.0.34',
  'gamma-mra': '172.28.0.35',
  /** Profile `cluster`: delta.test's primary MX (its backup is beta-mx2). */
  'delta-mx': '172.28.0.40',
};

/** The agents of each profile; every other agent always runs. */
export const PROFILE_AGENTS: Record<LabProfile, readonly AgentName[]> = {
  cluster: ['gamma-mx1a', 'gamma-mx1b', 'gamma-mx2', 'gamma-mx3', 'gamma-mda', 'gamma-mra', 'delta-mx'],
};

/** The profile an agent belongs to, if any. */
export function profileOf(agent: AgentName): LabProfile | undefined {
  return LAB_PROFILES.find((profile) => PROFILE_AGENTS[profile].includes(agent));
}

/** Host names of the MTAs as they appear in MX records and Received headers. */
export const MTA_HOSTNAMES = {
  'alpha-mta': 'mx.alpha.test',
  'beta-mx1': 'mx1.beta.test',
  'beta-mx2': 'mx2.beta.test',
  'gamma-mx1a': 'mx1.gamma.test',
  'gamma-mx1b': 'mx1.gamma.test',
  'gamma-mx2': 'mx2.gamma.test',
  'gamma-mx3': 'mx3.gamma.test',
  'delta-mx': 'mx.delta.test',
} as const;

/**
 * The names on each TLS server's certificate (the MTAs', the MRAs'), as compose.yaml's
 * `MTA_HOSTNAME`/`MTA_TLS_NAMES` and `MRA_HOSTNAME`/`MRA_TLS_NAMES` give them. The issuer
 * (scripts/lab-certs.ts) adds the agent's address; `npm start` adds localhost, 127.0.0.1
 * and the loopback address.
 */
export const AGENT_TLS_NAMES = {
  'alpha-mta': ['mx.alpha.test', 'smtp.alpha.test'],
  'beta-mx1': ['mx1.beta.test', 'smtp.beta.test'],
  'beta-mx2': ['mx2.beta.test'],
  'gamma-mx1a': ['mx1.gamma.test'],
  'gamma-mx1b': ['mx1.gamma.test'],
  'gamma-mx2': ['mx2.gamma.test'],
  'gamma-mx3': ['mx3.gamma.test', 'direct.gamma.test'],
  'delta-mx': ['mx.delta.test'],
  'alpha-mra': ['imap.alpha.test', 'pop.alpha.test'],
  'beta-mra': ['imap.beta.test', 'pop.beta.test'],
  'gamma-mra': ['imap.gamma.test', 'pop.gamma.test'],
} as const satisfies Partial<Record<AgentName, readonly string[]>>;
export type TlsAgent = keyof typeof AGENT_TLS_NAMES;

/**
 * Ports inside the lab network. Every agent has its own address in both modes, so the
 * ports are the standard ones in both (MX and SRV records stay true); binding ports
 * below 1024 on loopback needs root or `net.ipv4.ip_unprivileged_port_start=0`.
 */
export const SERVICE_PORTS = {
  dns: 53,
  smtp: 25,
  submission: 587,
  submissions: 465,
  lmtp: 24,
  imap: 143,
  imaps: 993,
  pop3: 110,
  pop3s: 995,
  caller: 8025,
  mtaAdmin: 8026,
  mua: 8080,
} as const;

/**
 * DESIGN.md's host endpoints, the same in both modes; each movable by its variable. Those
 * with a `profile` are published only while it is on.
 */
export const HOST_ENDPOINTS = {
  mua: { env: 'MXLAB_MUA_PORT', port: 8080 },
  dns: { env: 'MXLAB_DNS_PORT', port: 5353 },
  alphaSubmission: { env: 'MXLAB_ALPHA_SUBMISSION_PORT', port: 1587 },
  alphaSubmissions: { env: 'MXLAB_ALPHA_SUBMISSIONS_PORT', port: 1465 },
  alphaMx: { env: 'MXLAB_ALPHA_MX_PORT', port: 1025 },
  betaSubmission: { env: 'MXLAB_BETA_SUBMISSION_PORT', port: 2587 },
  betaSubmissions: { env: 'MXLAB_BETA_SUBMISSIONS_PORT', port: 2465 },
  betaMx1: { env: 'MXLAB_BETA_MX1_PORT', port: 2025 },
  betaMx2: { env: 'MXLAB_BETA_MX2_PORT', port: 3025 },
  alphaImap: { env: 'MXLAB_ALPHA_IMAP_PORT', port: 1143 },
  alphaImaps: { env: 'MXLAB_ALPHA_IMAPS_PORT', port: 1993 },
  alphaPop3: { env: 'MXLAB_ALPHA_POP3_PORT', port: 1110 },
  alphaPop3s: { env: 'MXLAB_ALPHA_POP3S_PORT', port: 1995 },
  betaImap: { env: 'MXLAB_BETA_IMAP_PORT', port: 2143 },
  betaImaps: { env: 'MXLAB_BETA_IMAPS_PORT', port: 2993 },
  betaPop3: { env: 'MXLAB_BETA_POP3_PORT', port: 2110 },
  betaPop3s: { env: 'MXLAB_BETA_POP3S_PORT', port: 2995 },
  gammaMx1a: { env: 'MXLAB_GAMMA_MX1A_PORT', port: 4025, profile: 'cluster' },
  gammaMx1b: { env: 'MXLAB_GAMMA_MX1B_PORT', port: 4125, profile: 'cluster' },
  gammaMx2: { env: 'MXLAB_GAMMA_MX2_PORT', port: 4225, profile: 'cluster' },
  gammaMx3: { env: 'MXLAB_GAMMA_MX3_PORT', port: 4325, profile: 'cluster' },
  gammaImap: { env: 'MXLAB_GAMMA_IMAP_PORT', port: 4143, profile: 'cluster' },
  gammaImaps: { env: 'MXLAB_GAMMA_IMAPS_PORT', port: 4993, profile: 'cluster' },
  gammaPop3: { env: 'MXLAB_GAMMA_POP3_PORT', port: 4110, profile: 'cluster' },
  gammaPop3s: { env: 'MXLAB_GAMMA_POP3S_PORT', port: 4995, profile: 'cluster' },
  deltaMx: { env: 'MXLAB_DELTA_MX_PORT', port: 5025, profile: 'cluster' },
} as const satisfies Record<string, { env: string; port: number; profile?: LabProfile }>;
export type HostEndpoint = keyof typeof HOST_ENDPOINTS;

export function hostPort(name: HostEndpoint, env: NodeJS.ProcessEnv = process.env): number {
  const { env: variable, port } = HOST_ENDPOINTS[name];
  const raw = env[variable];
  if (raw === undefined || raw === '') return port;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${variable} must be a port number, got ${JSON.stringify(raw)}`);
  }
  return value;
}
