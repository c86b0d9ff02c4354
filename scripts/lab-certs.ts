/**
 * The one place the lab's certificates are issued (issue 19, item 9), before any agent
 * starts: the CA key stays in a directory of its own, and each TLS server gets a
 * directory holding `ca.crt`, its own certificate and its own key, nothing else.
 *
 * - `npm start` (scripts/lab.ts) and the in-process test chain: `issueLabCertificates`
 *   over `<state>/tls`: the CA in `tls/ca/`, each agent in `tls/<agent>/`, `tls/ca.crt`
 *   for clients.
 * - compose: the one-shot `certs` service runs `node scripts/lab-certs.ts compose`:
 *   the CA on the `tls-ca` volume, which no agent mounts; each agent's own volume
 *   (`tls-alpha-mta`, …) mounted read-only into that agent alone; `tls-clients` (the CA
 *   certificate only) for the web mail and the exercise checker.
 */
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { COMPILE_ONLY_VARIABLE } from '../shared/agent.ts';
import { issueServerCertificate, ensureLabCa } from '../shared/tls.ts';
import { replaceFile, readIfExists } from '../shared/files.ts';
import { AGENT_ADDRESSES, AGENT_TLS_NAMES, type TlsAgent } from '../shared/lab.ts';
import type { AgentPlan } from './lab-plan.ts';

export interface CertificateRequest {
  agent: string;
  names: readonly string[];
}

export interface CertificateLayout {
  /** The CA's own directory: `ca.crt` + `ca.key`. */
  caDir: string;
  /** Each request's files go to `<outDir>/<agent>/`. */
  outDir: string;
  /** Where clients find `ca.crt` alone. */
  clientsDir: string;
}

/** The names each agent of a `npm start` plan asks for: its hostname and its *_TLS_NAMES. */
export function planCertificates(plan: readonly AgentPlan[]): CertificateRequest[] {
  const requests: CertificateRequest[] = [];
  for (const agent of plan) {
    const prefix = agent.env.MTA_NAME ? 'MTA' : agent.env.MRA_NAME ? 'MRA' : undefined;
    if (!prefix) continue;
    const extra = (agent.env[`${prefix}_TLS_NAMES`] ?? '').split(',').map((name) => name.trim()).filter((name) => name !== '');
    requests.push({ agent: agent.name, names: [agent.env[`${prefix}_HOSTNAME`] ?? '', ...extra].filter((name) => name !== '') });
  }
  return requests;
}

/** compose: the names of shared/lab.ts's table and the agent's container address. */
export function composeCertificates(): CertificateRequest[] {
  return (Object.keys(AGENT_TLS_NAMES) as TlsAgent[]).map((agent) => ({ agent, names: [...AGENT_TLS_NAMES[agent], AGENT_ADDRESSES[agent]] }));
}

/**
 * Before the CA had a directory of its own, `<state>/tls` held `ca.key` beside every
 * agent's key: such a directory is emptied of keys and certificates first.
 */
async function retireSharedLayout(dir: string): Promise<void> {
  if ((await readIfExists(join(dir, 'ca.key'))) === undefined) return;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isFile() && /\.(key|crt)$/u.test(entry.name)) await unlink(join(dir, entry.name));
  }
}

export async function issueLabCertificates(layout: CertificateLayout, requests: readonly CertificateRequest[]): Promise<void> {
  await retireSharedLayout(layout.clientsDir);
  const ca = await ensureLabCa(layout.caDir);
  await mkdir(layout.clientsDir, { recursive: true });
  if ((await readIfExists(join(layout.clientsDir, 'ca.crt'))) !== ca.pem) await replaceFile(join(layout.clientsDir, 'ca.crt'), ca.pem, 0o644);
  for (const request of requests) {
    await issueServerCertificate(layout.caDir, join(layout.outDir, request.agent), request.agent, request.names);
  }
}

/** `npm start`'s layout under `<state>/tls`. */
export function stateLayout(stateDir: string): CertificateLayout {
  const tls = join(stateDir, 'tls');
  return { caDir: join(tls, 'ca'), outDir: tls, clientsDir: tls };
}

/** compose's layout inside the `certs` container (its volumes, compose.yaml). */
export const COMPOSE_LAYOUT: CertificateLayout = {
  caDir: '/var/lib/mxlab/ca',
  outDir: '/var/lib/mxlab/certs',
  clientsDir: '/var/lib/mxlab/certs/clients',
};

/** The directories the image must own for the `certs` service's fresh volumes to be writable by `node`. */
export function composeMountPoints(): string[] {
  return [COMPOSE_LAYOUT.caDir, COMPOSE_LAYOUT.clientsDir, ...composeCertificates().map((request) => join(COMPOSE_LAYOUT.outDir, request.agent))];
}

if (import.meta.main) {
  const command = process.argv[2];
  // The image's compile cache (scripts/compile-cache.ts): every module is loaded now; issue nothing.
  if (process.env[COMPILE_ONLY_VARIABLE] === '1') process.exit(0);
  if (command === 'compose') {
    // Optional agent names: a stack that runs only some TLS servers (and mounts only their volumes).
    const only = new Set(process.argv.slice(3));
    const unknown = [...only].filter((agent) => !(agent in AGENT_TLS_NAMES));
    if (unknown.length > 0) throw new Error(`lab-certs: no TLS server named ${unknown.join(', ')} (known: ${Object.keys(AGENT_TLS_NAMES).join(', ')})`);
    const requests = composeCertificates().filter((request) => only.size === 0 || only.has(request.agent));
    await issueLabCertificates(COMPOSE_LAYOUT, requests);
    process.stdout.write(`certs: ${requests.map((request) => request.agent).join(', ')} issued by the lab CA\n`);
  } else if (command === 'mount-points') {
    process.stdout.write(`${composeMountPoints().join('\n')}\n`);
  } else {
    process.stderr.write('usage: node scripts/lab-certs.ts compose [agent…] | mount-points\n');
    process.exitCode = 2;
  }
}
