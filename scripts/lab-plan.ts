/**
 * The no-Docker lab as a list of agents: which entry point, which environment — the
 * same variables compose.yaml sets (services/ENV.md), with loopback addresses instead of
 * container addresses and DESIGN.md's host endpoints added on 127.0.0.1.
 */
import { join } from 'node:path';
import { compileCacheDir, nodeOptionsOf } from './compile-cache.ts';
import { AGENT_ADDRESSES, hostPort, loopbackNet, MTA_HOSTNAMES, SERVICE_PORTS, toLoopback, type AgentName, type HostEndpoint } from '../shared/lab.ts';

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
};

type PlannedAgent = Omit<AgentPlan, 'nodeOptions'>;

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
    MXLAB_TLS_DIR: join(options.stateDir, 'tls'),
    MXLAB_MAIL_ROOT: join(options.stateDir, 'mail'),
    ...(env.MXLAB_PASSWORD ? { MXLAB_PASSWORD: env.MXLAB_PASSWORD } : {}),
    LOG_LEVEL: env.LOG_LEVEL ?? 'info',
  };
  const callerUrl = `http://${at('caller')}:${SERVICE_PORTS.caller}`;
  // Every MTA of the lab: their resent transactions are recognised (services/mta/smtp/resend.ts).
  const mtaPeers = (Object.keys(MTA_HOSTNAMES) as AgentName[]).map(at).join(',');

  const mta = (
    name: 'alpha-mta' | 'beta-mx1' | 'beta-mx2',
    hostname: string,
    extra: Record<string, string>,
  ): PlannedAgent => ({
    name,
    entry: 'services/mta/main.ts',
    ready: { host: at(name), port: SERVICE_PORTS.smtp },
    env: {
      ...common,
      MTA_NAME: name,
      MTA_HOSTNAME: hostname,
      MTA_QUEUE_DIR: join(options.stateDir, 'queue', name),
      MTA_DNS_SERVER: dns,
      MTA_OUTBOUND_PORT: String(SERVICE_PORTS.smtp),
      MTA_SOURCE_ADDRESS: at(name),
      MTA_ADMIN_LISTEN: `${at(name)}:${SERVICE_PORTS.mtaAdmin}`,
      MTA_CALLER_URL: callerUrl,
      MTA_PEER_ADDRESSES: mtaPeers,
      ...(env.MXLAB_ADMIN_TOKEN ? { MXLAB_ADMIN_TOKEN: env.MXLAB_ADMIN_TOKEN } : {}),
      ...extra,
    },
  });
  // LMTP only from the MTAs that deliver there (each sends from its own address, MTA_SOURCE_ADDRESS).
  const mda = (name: 'alpha-mda' | 'beta-mda', domain: string, mtas: readonly AgentName[]): PlannedAgent => ({
    name,
    entry: 'services/mda/main.ts',
    ready: { host: at(name), port: SERVICE_PORTS.lmtp },
    env: {
      ...common,
      MDA_NAME: name,
      MDA_HOSTNAME: `lmtp.${domain}`,
      MDA_DOMAINS: domain,
      MDA_LMTP_LISTEN: listen(name, SERVICE_PORTS.lmtp),
      MDA_LMTP_CLIENTS: mtas.map(at).join(','),
    },
  });
  const mra = (name: 'alpha-mra' | 'beta-mra', domain: string, side: 'alpha' | 'beta'): PlannedAgent => ({
    name,
    entry: 'services/mra/main.ts',
    ready: { host: at(name), port: SERVICE_PORTS.imap },
    env: {
      ...common,
      MRA_NAME: name,
      MRA_HOSTNAME: `imap.${domain}`,
      MRA_TLS_NAMES: `pop.${domain},localhost,127.0.0.1,${at(name)}`,
      MRA_DOMAINS: domain,
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
        DNS_ZONES_DIR: join(options.root, 'services', 'dns', 'zones'),
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
      },
    },
    mda('alpha-mda', 'alpha.test', ['alpha-mta']),
    mda('beta-mda', 'beta.test', ['beta-mx1', 'beta-mx2']),
    mra('alpha-mra', 'alpha.test', 'alpha'),
    mra('beta-mra', 'beta.test', 'beta'),
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
      MTA_SMTP_LISTEN: listen('beta-mx1', SERVICE_PORTS.smtp, 'betaMx1'),
      MTA_SUBMISSION_LISTEN: listen('beta-mx1', SERVICE_PORTS.submission, 'betaSubmission'),
      MTA_SUBMISSIONS_LISTEN: listen('beta-mx1', SERVICE_PORTS.submissions, 'betaSubmissions'),
    }),
    mta('beta-mx2', 'mx2.beta.test', {
      MTA_TLS_NAMES: `localhost,127.0.0.1,${at('beta-mx2')}`,
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'beta.test',
      MTA_LMTP: `${at('beta-mda')}:${SERVICE_PORTS.lmtp}`,
      MTA_SMTP_LISTEN: listen('beta-mx2', SERVICE_PORTS.smtp, 'betaMx2'),
      MTA_SUBMISSION_LISTEN: '',
      MTA_SUBMISSIONS_LISTEN: '',
    }),
    {
      name: 'mua',
      entry: 'services/mua/main.ts',
      ready: { host: '127.0.0.1', port: hostPort('mua', env) },
      env: { ...common, MUA_LISTEN: `${pub('mua')},${at('mua')}:${SERVICE_PORTS.mua}`, MUA_DNS_SERVER: dns },
    },
  ];
  return agents.map((agent) => ({ ...agent, nodeOptions: nodeOptionsOf(agent.entry) }));
}

export function publishedEndpoints(env: NodeJS.ProcessEnv = process.env): PublishedEndpoint[] {
  return (Object.keys(ENDPOINT_DESCRIPTIONS) as HostEndpoint[]).map((name) => ({
    name,
    port: hostPort(name, env),
    what: ENDPOINT_DESCRIPTIONS[name],
  }));
}
