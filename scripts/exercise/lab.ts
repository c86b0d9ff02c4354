/**
 * Where the exercise checks find the lab. Two targets, the same endpoints:
 *
 * - `local` (default): the no-Docker lab (`npm start`) seen from the host: DESIGN.md's
 *   host endpoints on 127.0.0.1 (moved by the same MXLAB_*_PORT variables), the MTAs'
 *   admin endpoints on their loopback addresses (MXLAB_LOOPBACK_NET, default 127.28), the
 *   agents' logs in `.lab/logs` (or MXLAB_STATE_DIR's).
 * - `compose`: inside the compose network (`docker compose run --rm exercise …`): every
 *   agent on its container address and standard port; no log files (agents log to stdout).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AGENT_ADDRESSES, hostPort, LAB_DEFAULT_PASSWORD, loopbackNet, MTA_HOSTNAMES, SERVICE_PORTS, toLoopback, type AgentName, type HostEndpoint } from '../../shared/lab.ts';

export type MtaName = keyof typeof MTA_HOSTNAMES;
/** Whose MRA keeps a domain's mailboxes: alpha-mra, beta-mra, or (profile cluster) gamma-mra. */
export type MailSide = 'alpha' | 'beta' | 'gamma';
/** The sides with a submission service. */
export type SubmissionSide = 'alpha' | 'beta';

export interface Endpoint {
  host: string;
  port: number;
}

export interface LabTarget {
  mode: 'local' | 'compose';
  dns: Endpoint;
  imap(side: MailSide): Endpoint;
  pop3(side: MailSide): Endpoint;
  submission(side: SubmissionSide): Endpoint;
  /** An agent's own address in the lab network (what the lab DNS and the agents' logs show). */
  address(agent: AgentName): string;
  /** The MTA's port 25. */
  mx(mta: MtaName): Endpoint;
  /** Base URL of the MTA's admin endpoint, e.g. http://127.28.0.20:8026. */
  adminUrl(mta: MtaName): string;
  mua: string;
  /** Directory of `<agent>.log` files, when the target has them (the no-Docker lab). */
  logsDir?: string;
  /** The lab CA (PEM), when it can be read; TLS to the lab is verified against it. */
  ca?: string;
  /** The lab users' password (MXLAB_PASSWORD, default `secret`). */
  password: string;
  /** MXLAB_ADMIN_TOKEN, when the MTAs' admin endpoints ask for one. */
  adminToken?: string;
}

/** gamma-mra keeps gamma.test's, direct.gamma.test's and delta.test's mailboxes. */
const sideOf = (domain: string): MailSide => (domain === 'alpha.test' ? 'alpha' : domain === 'beta.test' ? 'beta' : 'gamma');
export const domainSide = sideOf;

function readCa(dir: string): string | undefined {
  const file = join(dir, 'ca.crt');
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
}

export function labTarget(env: NodeJS.ProcessEnv = process.env): LabTarget {
  const password = env.MXLAB_PASSWORD || LAB_DEFAULT_PASSWORD;
  const token = env.MXLAB_ADMIN_TOKEN ? { adminToken: env.MXLAB_ADMIN_TOKEN } : {};
  const mode = env.MXLAB_EXERCISE_TARGET ?? 'local';
  if (mode === 'compose') {
    const at = (agent: keyof typeof AGENT_ADDRESSES, port: number): Endpoint => ({ host: AGENT_ADDRESSES[agent], port });
    const mra = (side: MailSide) => `${side}-mra` as const;
    const submitter = (side: SubmissionSide) => (side === 'alpha' ? 'alpha-mta' : 'beta-mx1');
    const ca = readCa(env.MXLAB_TLS_DIR ?? '/var/lib/mxlab/tls');
    return {
      mode,
      dns: at('dns', SERVICE_PORTS.dns),
      imap: (side) => at(mra(side), SERVICE_PORTS.imap),
      pop3: (side) => at(mra(side), SERVICE_PORTS.pop3),
      submission: (side) => at(submitter(side), SERVICE_PORTS.submission),
      address: (agent) => AGENT_ADDRESSES[agent],
      mx: (mta) => at(mta, SERVICE_PORTS.smtp),
      adminUrl: (mta) => `http://${AGENT_ADDRESSES[mta]}:${SERVICE_PORTS.mtaAdmin}`,
      mua: `http://${AGENT_ADDRESSES.mua}:${SERVICE_PORTS.mua}`,
      ...(ca ? { ca } : {}),
      ...token,
      password,
    };
  }
  if (mode !== 'local') throw new Error(`MXLAB_EXERCISE_TARGET must be local or compose, got ${mode}`);
  const net = loopbackNet(env);
  const stateDir = resolve(env.MXLAB_STATE_DIR ?? join(import.meta.dirname, '..', '..', '.lab'));
  const host = (name: HostEndpoint): Endpoint => ({ host: '127.0.0.1', port: hostPort(name, env) });
  const mxEndpoint: Record<MtaName, HostEndpoint> = {
    'alpha-mta': 'alphaMx',
    'beta-mx1': 'betaMx1',
    'beta-mx2': 'betaMx2',
    'gamma-mx1a': 'gammaMx1a',
    'gamma-mx1b': 'gammaMx1b',
    'gamma-mx2': 'gammaMx2',
    'gamma-mx3': 'gammaMx3',
    'delta-mx': 'deltaMx',
  };
  const ca = readCa(join(stateDir, 'tls'));
  return {
    mode: 'local',
    dns: host('dns'),
    imap: (side) => host(`${side}Imap`),
    pop3: (side) => host(`${side}Pop3`),
    submission: (side) => host(side === 'alpha' ? 'alphaSubmission' : 'betaSubmission'),
    address: (agent) => toLoopback(AGENT_ADDRESSES[agent], net),
    mx: (mta) => host(mxEndpoint[mta]),
    adminUrl: (mta) => `http://${toLoopback(AGENT_ADDRESSES[mta], net)}:${SERVICE_PORTS.mtaAdmin}`,
    mua: `http://127.0.0.1:${hostPort('mua', env)}`,
    logsDir: join(stateDir, 'logs'),
    ...(ca ? { ca } : {}),
    ...token,
    password,
  };
}
