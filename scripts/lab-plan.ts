/**
 * The no-Docker lab as a list of agents: which entry point, which environment — the
 * same variables compose.yaml sets (services/ENV.md), with loopback addresses instead of
 * container addresses and DESIGN.md's host endpoints added on 127.0.0.1.
 */
import { join, resolve } from 'node:path';
import { compileCacheDir, nodeOptionsOf } from './compile-cache.ts';
import {
  AGENT_ADDRESSES,
  HOST_ENDPOINTS,
  hostPort,
  labProfiles,
  loopbackNet,
  MTA_HOSTNAMES,
  profileOf,
  SERVICE_PORTS,
  toLoopback,
  type AgentName,
  type HostEndpoint,
  type LabProfile,
} from '../shared/lab.ts';

export interface AgentPlan {
  name: AgentName;
  entry: string;
  /** Flags for node itself, before the entry (AGENT_PROGRAMS in compile-cache.ts, as compose.yaml's `command:`). */
  nodeOptions: readonly string[];
  env: Record<string, string>;
  /** First listener: the agent is up when it accepts a TCP connection here. */
  ready: { host: string; port: number };
}

export interface LabOptions {
  root: string;
  stateDir: string;
  env?: NodeJS.ProcessEnv;
}

export interface PublishedEndpoint {
  name: HostEndpoint;
  port: number;
  what: string;
}

export const ENDPOINT_DESCRIPTIONS: Record<HostEndpoint, string> = {
  mua: 'web mail                 http://127.0.0.1:PORT/',
  dns: 'DNS (UDP+TCP)            dig @127.0.0.1 -p PORT beta.test MX',
  alphaSubmission: 'alpha submission         STARTTLS, AUTH',
  alphaSubmissions: 'alpha submissions        implicit TLS, AUTH',
  alphaMx: 'alpha MX (port 25)',
  betaSubmission: 'beta submission          STARTTLS, AUTH',
  betaSubmissions: 'beta submissions         implicit TLS, AUTH',
  betaMx1: 'beta-mx1 MX (port 25)',
  betaMx2: 'beta-mx2 MX (port 25)    backup MX',
  alphaImap: 'alpha IMAP               STARTTLS',
  alphaImaps: 'alpha IMAPS',
  alphaPop3: 'alpha POP3               STLS',
  alphaPop3s: 'alpha POP3S',
  betaImap: 'beta IMAP                STARTTLS',
  betaImaps: 'beta IMAPS',
  betaPop3: 'beta POP3                STLS',
  betaPop3s: 'beta POP3S',
  gammaMx1a: 'gamma-mx1a MX (port 25)  mx1.gamma.test, first A record',
  gammaMx1b: 'gamma-mx1b MX (port 25)  mx1.gamma.test, second A record',
  gammaMx2: 'gamma-mx2 MX (port 25)   backup MX 20',
  gammaMx3: 'gamma-mx3 MX (port 25)   backup MX 20; direct.gamma.test (implicit MX)',
  gammaImap: 'gamma IMAP               STARTTLS (gamma.test, direct.gamma.test, delta.test)',
  gammaImaps: 'gamma IMAPS',
  gammaPop3: 'gamma POP3               STLS',
  gammaPop3s: 'gamma POP3S',
  deltaMx: 'delta-mx MX (port 25)    delta.test primary; backup is beta-mx2',
};

/** The profile a host endpoint belongs to, if any (published only while it is on). */
function endpointProfile(name: HostEndpoint): LabProfile | undefined {
  const endpoint = HOST_ENDPOINTS[name];
  return 'profile' in endpoint ? endpoint.profile : undefined;
}

type PlannedAgent = Omit<AgentPlan, 'nodeOptions'>;

/** gamma-mda and gamma-mra keep the mailboxes of the cluster profile's domains. */
const GAMMA_MAILBOX_DOMAINS = ['gamma.test', 'direct.gamma.test', 'delta.test'] as const;

export function labPlan(options: LabOptions): AgentPlan[] {
  const env = options.env ?? process.env;
  const net = loopbackNet(env);
  const at = (agent: AgentName) => toLoopback(AGENT_ADDRESSES[agent], net);
  const pub = (name: HostEndpoint) => `127.0.0.1:${hostPort(name, env)}`;
  const listen = (agent: AgentName, port: number, published?: HostEndpoint) =>
    [`${at(agent)}:${port}`, ...(published ? [pub(published)] : [])].join(',');
  const dns = `${at('dns')}:${SERVICE_PORTS.dns}`;
  const common = {
    NODE_COMPILE_CACHE: compileCacheDir(options.root),
    MXLAB_LOOPBACK_NET: net,
    MXLAB_USERS_DIR: join(options.stateDir, 'users'),
    MXLAB_MAIL_ROOT: join(options.stateDir, 'mail'),
    ...(env.MXLAB_PASSWORD ? { MXLAB_PASSWORD: env.MXLAB_PASSWORD } : {}),
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
  };
  const callerUrl = `http://${at('caller')}:${SERVICE_PORTS.caller}`;
  // MXLAB_CHAOS_PLAN: one fault plan file for the lab; each MTA and the caller take their entry at start.
  const chaosPlan = env.MXLAB_CHAOS_PLAN ? resolve(env.MXLAB_CHAOS_PLAN) : undefined;
  const planAt = (variable: 'MTA_CHAOS_PLAN' | 'CALLER_CHAOS_PLAN'): Record<string, string> => (chaosPlan === undefined ? {} : { [variable]: chaosPlan });
  const adminToken: Record<string, string> = env.MXLAB_ADMIN_TOKEN ? { MXLAB_ADMIN_TOKEN: env.MXLAB_ADMIN_TOKEN } : {};
  // Every MTA of the lab: their resent transactions are recognised (services/mta/smtp/resend.ts).
  const mtaPeers = (Object.keys(MTA_HOSTNAMES) as AgentName[]).map(at).join(',');

  const mta = (
    name: keyof typeof MTA_HOSTNAMES,
    hostname: string,
    extra: Record<string, string>,
  ): PlannedAgent => ({
    name,
    entry: 'services/mta/main.ts',
    // The admin port: services/mta/server.ts binds it after every SMTP listener (port 25,
    // then submission), so a client never finds the MX up and the submission port not yet.
    ready: { host: at(name), port: SERVICE_PORTS.mtaAdmin },
    env: {
      ...common,
      MTA_NAME: name,
      MTA_HOSTNAME: hostname,
      // Its own certificate only (scripts/lab-certs.ts issues them before any agent starts).
      MXLAB_TLS_DIR: join(options.stateDir, 'tls', name),
      MTA_QUEUE_DIR: join(options.stateDir, 'queue', name),
      MTA_DNS_SERVER: dns,
      MTA_OUTBOUND_PORT: String(SERVICE_PORTS.smtp),
      MTA_SOURCE_ADDRESS: at(name),
      MTA_ADMIN_LISTEN: `${at(name)}:${SERVICE_PORTS.mtaAdmin}`,
      MTA_CALLER_URL: callerUrl,
      MTA_PEER_ADDRESSES: mtaPeers,
      ...adminToken,
      ...planAt('MTA_CHAOS_PLAN'),
      ...extra,
    },
  });
  // LMTP only from the MTAs that deliver there (each sends from its own address, MTA_SOURCE_ADDRESS).
  const mda = (name: 'alpha-mda' | 'beta-mda' | 'gamma-mda', domains: readonly string[], mtas: readonly AgentName[]): PlannedAgent => ({
    name,
    entry: 'services/mda/main.ts',
    ready: { host: at(name), port: SERVICE_PORTS.lmtp },
    env: {
      ...common,
      MDA_NAME: name,
      MDA_HOSTNAME: `lmtp.${domains[0]}`,
      MDA_DOMAINS: domains.join(','),
      MDA_LMTP_LISTEN: listen(name, SERVICE_PORTS.lmtp),
      MDA_LMTP_CLIENTS: mtas.map(at).join(','),
    },
  });
  const mra = (name: 'alpha-mra' | 'beta-mra' | 'gamma-mra', domains: readonly string[], side: 'alpha' | 'beta' | 'gamma'): PlannedAgent => ({
    name,
    entry: 'services/mra/main.ts',
    ready: { host: at(name), port: SERVICE_PORTS.imap },
    env: {
      ...common,
      MRA_NAME: name,
      MXLAB_TLS_DIR: join(options.stateDir, 'tls', name),
      MRA_HOSTNAME: `imap.${domains[0]}`,
      MRA_TLS_NAMES: `pop.${domains[0]},localhost,127.0.0.1,${at(name)}`,
      MRA_DOMAINS: domains.join(','),
      MRA_IMAP_LISTEN: listen(name, SERVICE_PORTS.imap, `${side}Imap`),
      MRA_IMAPS_LISTEN: listen(name, SERVICE_PORTS.imaps, `${side}Imaps`),
      MRA_POP3_LISTEN: listen(name, SERVICE_PORTS.pop3, `${side}Pop3`),
      MRA_POP3S_LISTEN: listen(name, SERVICE_PORTS.pop3s, `${side}Pop3s`),
      MRA_ALLOW_PLAINTEXT_AUTH: 'true',
    },
  });

  const agents: PlannedAgent[] = [
    {
      name: 'dns',
      entry: 'services/dns/main.ts',
      ready: { host: at('dns'), port: SERVICE_PORTS.dns },
      env: {
        ...common,
        DNS_LISTEN: `${dns},${pub('dns')}`,
        DNS_ZONES_DIR: env.MXLAB_ZONES_DIR ?? join(options.root, 'services', 'dns', 'zones'),
        DNS_ADDRESS_MODE: 'loopback',
      },
    },
    {
      name: 'caller',
      entry: 'services/caller/main.ts',
      ready: { host: at('caller'), port: SERVICE_PORTS.caller },
      // Scans only from the MTAs, each from its own address (MTA_SOURCE_ADDRESS).
      env: {
        ...common,
        CALLER_LISTEN: `${at('caller')}:${SERVICE_PORTS.caller}`,
        CALLER_DNS_SERVER: dns,
        CALLER_CLIENTS: mtaPeers,
        ...adminToken,
        ...planAt('CALLER_CHAOS_PLAN'),
      },
    },
    mda('alpha-mda', ['alpha.test'], ['alpha-mta']),
    mda('beta-mda', ['beta.test'], ['beta-mx1', 'beta-mx2']),
    mda('gamma-mda', GAMMA_MAILBOX_DOMAINS, ['gamma-mx1a', 'gamma-mx1b', 'gamma-mx3', 'delta-mx']),
    mra('alpha-mra', ['alpha.test'], 'alpha'),
    mra('beta-mra', ['beta.test'], 'beta'),
    mra('gamma-mra', GAMMA_MAILBOX_DOMAINS, 'gamma'),
    mta('alpha-mta', 'mx.alpha.test', {
      MTA_TLS_NAMES: `smtp.alpha.test,localhost,127.0.0.1,${at('alpha-mta')}`,
      MTA_LOCAL_DOMAINS: 'alpha.test',
      MTA_RELAY_DOMAINS: '',
      MTA_LMTP: `${at('alpha-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('alpha-mta', SERVICE_PORTS.smtp, 'alphaMx'),
      MTA_SUBMISSION_LISTEN: listen('alpha-mta', SERVICE_PORTS.submission, 'alphaSubmission'),
      MTA_SUBMISSIONS_LISTEN: listen('alpha-mta', SERVICE_PORTS.submissions, 'alphaSubmissions'),
    }),
    mta('beta-mx1', 'mx1.beta.test', {
      MTA_TLS_NAMES: `smtp.beta.test,localhost,127.0.0.1,${at('beta-mx1')}`,
      MTA_LOCAL_DOMAINS: 'beta.test',
      MTA_RELAY_DOMAINS: '',
      MTA_LMTP: `${at('beta-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_ARC_TRUSTED_SEALERS: 'beta.test',
      MTA_SMTP_LISTEN: listen('beta-mx1', SERVICE_PORTS.smtp, 'betaMx1'),
      MTA_SUBMISSION_LISTEN: listen('beta-mx1', SERVICE_PORTS.submission, 'betaSubmission'),
      MTA_SUBMISSIONS_LISTEN: listen('beta-mx1', SERVICE_PORTS.submissions, 'betaSubmissions'),
    }),
    // Backup MX of beta.test, and of delta.test: another organisation's server ("ISP as backup").
    mta('beta-mx2', 'mx2.beta.test', {
      MTA_TLS_NAMES: `localhost,127.0.0.1,${at('beta-mx2')}`,
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'beta.test,delta.test',
      MTA_ARC_SEAL_DOMAIN: 'beta.test',
      MTA_RELAY_RECIPIENTS: 'beta.test,delta.test',
      MTA_LMTP: `${at('beta-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('beta-mx2', SERVICE_PORTS.smtp, 'betaMx2'),
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    }),
    // Profile `cluster`: mx1.gamma.test is two MTAs (one per A record), mx2 and mx3 its equal backups.
    ...(['gamma-mx1a', 'gamma-mx1b'] as const).map((name) =>
      mta(name, 'mx1.gamma.test', {
        MTA_TLS_NAMES: `localhost,127.0.0.1,${at(name)}`,
        MTA_LOCAL_DOMAINS: 'gamma.test',
        MTA_RELAY_DOMAINS: '',
        MTA_ARC_TRUSTED_SEALERS: 'gamma.test',
        MTA_LMTP: `${at('gamma-mda')}:${SERVICE_PORTS.lmtp}`,
        MTA_SMTP_LISTEN: listen(name, SERVICE_PORTS.smtp, name === 'gamma-mx1a' ? 'gammaMx1a' : 'gammaMx1b'),
        MTA_SUBMISSION_LISTEN: '',
        MTA_SUBMISSIONS_LISTEN: '',
      }),
    ),
    mta('gamma-mx2', 'mx2.gamma.test', {
      MTA_TLS_NAMES: `localhost,127.0.0.1,${at('gamma-mx2')}`,
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'gamma.test',
      MTA_ARC_SEAL_DOMAIN: 'gamma.test',
      MTA_RELAY_RECIPIENTS: 'gamma.test',
      MTA_LMTP: `${at('gamma-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('gamma-mx2', SERVICE_PORTS.smtp, 'gammaMx2'),
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    }),
    // Also the host of direct.gamma.test's A record: that domain has no MX (implicit MX).
    mta('gamma-mx3', 'mx3.gamma.test', {
      MTA_TLS_NAMES: `direct.gamma.test,localhost,127.0.0.1,${at('gamma-mx3')}`,
      MTA_LOCAL_DOMAINS: 'direct.gamma.test',
      MTA_RELAY_DOMAINS: 'gamma.test',
      MTA_ARC_SEAL_DOMAIN: 'gamma.test',
      MTA_RELAY_RECIPIENTS: 'gamma.test',
      MTA_LMTP: `${at('gamma-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('gamma-mx3', SERVICE_PORTS.smtp, 'gammaMx3'),
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    }),
    // Profile `cluster`: delta.test's own primary, delivering into gamma-mda.
    mta('delta-mx', 'mx.delta.test', {
      MTA_TLS_NAMES: `localhost,127.0.0.1,${at('delta-mx')}`,
      MTA_LOCAL_DOMAINS: 'delta.test',
      MTA_RELAY_DOMAINS: '',
      MTA_ARC_TRUSTED_SEALERS: 'beta.test',
      MTA_LMTP: `${at('gamma-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('delta-mx', SERVICE_PORTS.smtp, 'deltaMx'),
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    }),
    {
      name: 'mua',
      entry: 'services/mua/main.ts',
      ready: { host: '127.0.0.1', port: hostPort('mua', env) },
      // The lab CA's certificate only, to trust the servers with.
      env: { ...common, MXLAB_TLS_DIR: join(options.stateDir, 'tls'), MUA_LISTEN: `${pub('mua')},${at('mua')}:${SERVICE_PORTS.mua}`, MUA_DNS_SERVER: dns },
    },
  ];
  const profiles = labProfiles(env);
  return agents
    .filter((agent) => {
      const profile = profileOf(agent.name);
      return profile === undefined || profiles.has(profile);
    })
    .map((agent) => ({ ...agent, nodeOptions: nodeOptionsOf(agent.entry) }));
}

/** The endpoints on 127.0.0.1 of the running profiles. */
export function publishedEndpoints(env: NodeJS.ProcessEnv = process.env): PublishedEndpoint[] {
  const profiles = labProfiles(env);
  const published = (name: HostEndpoint) => {
    const profile = endpointProfile(name);
    return profile === undefined || profiles.has(profile);
  };
  return (Object.keys(ENDPOINT_DESCRIPTIONS) as HostEndpoint[]).filter(published).map((name) => ({
    name,
    port: hostPort(name, env),
    what: ENDPOINT_DESCRIPTIONS[name],
  }));
}
