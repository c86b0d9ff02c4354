/**
 * Test harness: the whole mail chain in this process — lab DNS, caller, both MDAs, both
 * MRAs, the three MTAs — wired exactly as `npm start` wires them (scripts/lab-plan.ts),
 * on a loopback network of its own, plus the MUA on 127.0.0.1 port 0.
 */
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { addressModeOf, loadDnsConfig } from '../../dns/config.ts';
import { startDnsServer } from '../../dns/server.ts';
import { issueLabCertificates, planCertificates, stateLayout } from '../../../scripts/lab-certs.ts';
import { labPlan, type AgentPlan } from '../../../scripts/lab-plan.ts';
import { createLogger } from '../../../shared/log.ts';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback } from '../../../shared/lab.ts';
import { ensureLabUsers } from '../../../shared/users.ts';
import { loadCallerConfig } from '../../caller/config.ts';
import { startCaller } from '../../caller/server.ts';
import { loadMdaConfig } from '../../mda/config.ts';
import { startMda } from '../../mda/server.ts';
import { loadMraConfig } from '../../mra/config.ts';
import { startMra } from '../../mra/server.ts';
import { loadMtaConfig } from '../../mta/config.ts';
import { startMta } from '../../mta/server.ts';
import { startMua } from '../server.ts';

export interface Chain {
  /** http://127.0.0.1:PORT */
  muaUrl: string;
  stateDir: string;
  net: string;
  close(): Promise<void>;
}

const root = resolve(import.meta.dirname, '..', '..', '..');

/** The plan's agents without the listeners it publishes on 127.0.0.1 (the host ports). */
function privateOnly(agent: AgentPlan): Record<string, string> {
  const env: Record<string, string> = { ...agent.env, LOG_LEVEL: process.env.MXLAB_TEST_LOG ? 'debug' : 'silent' };
  for (const [key, value] of Object.entries(env)) {
    if (!key.endsWith('_LISTEN')) continue;
    env[key] = value.split(',').filter((item) => !item.startsWith('127.0.0.1:')).join(',');
  }
  return env;
}

export async function startChain(): Promise<Chain> {
  const stateDir = await mkdtemp(join(tmpdir(), 'mxlab-mua-chain-'));
  // MXLAB_TEST_NET pins the loopback net (`127.X`) when several people share a machine.
  const net = process.env.MXLAB_TEST_NET ?? `127.${randomInt(100, 200)}`;
  const plan = labPlan({ root, stateDir, env: { MXLAB_LOOPBACK_NET: net } });
  const closers: (() => Promise<void>)[] = [];
  // The lab DNS maps A records to the loopback net named in the process environment.
  const previousNet = process.env.MXLAB_LOOPBACK_NET;
  process.env.MXLAB_LOOPBACK_NET = net;
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch(() => undefined);
    if (previousNet === undefined) delete process.env.MXLAB_LOOPBACK_NET;
    else process.env.MXLAB_LOOPBACK_NET = previousNet;
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    await ensureLabUsers(join(stateDir, 'users'), 'secret');
    await issueLabCertificates(stateLayout(stateDir), planCertificates(plan));
    const silent = createLogger('chain', 'silent');
    for (const agent of plan) {
      const env = privateOnly(agent);
      if (agent.name === 'dns') {
        const config = loadDnsConfig(env);
        const dns = await startDnsServer({ listen: config.DNS_LISTEN, zonesDir: config.DNS_ZONES_DIR, addressMode: addressModeOf(config), logger: silent });
        closers.push(() => dns.close());
      } else if (agent.name === 'caller') {
        const caller = await startCaller(loadCallerConfig(env), { logger: silent });
        closers.push(() => caller.close());
      } else if (agent.name === 'alpha-mda' || agent.name === 'beta-mda') {
        const mda = await startMda(loadMdaConfig(env), { logger: silent });
        closers.push(() => mda.close());
      } else if (agent.name === 'alpha-mra' || agent.name === 'beta-mra') {
        const mra = await startMra(loadMraConfig(env), { logger: silent, authFailureDelayMs: 10 });
        closers.push(() => mra.close());
      } else if (agent.name === 'alpha-mta' || agent.name === 'beta-mx1' || agent.name === 'beta-mx2') {
        const mta = await startMta(loadMtaConfig(env), { logger: silent });
        closers.push(() => mta.close());
      }
    }
    const mua = await startMua(
      {
        listen: [{ host: '127.0.0.1', port: 0 }],
        dnsServer: { host: toLoopback(AGENT_ADDRESSES.dns, net), port: SERVICE_PORTS.dns },
        fallback: new Map(),
        sessionSecret: 'chain-test-session-secret-0123456789',
        tlsDir: join(stateDir, 'tls'),
      },
      { log: silent },
    );
    closers.push(() => mua.close());
    return { muaUrl: `http://127.0.0.1:${mua.http[0]?.port ?? 0}`, stateDir, net, close };
  } catch (error) {
    await close();
    throw error;
  }
}
