import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { X509Certificate } from 'node:crypto';
import { parse } from 'yaml';
import { AGENT_TLS_NAMES, type TlsAgent } from '../shared/lab.ts';
import { composeCertificates, composeMountPoints, COMPOSE_LAYOUT, issueLabCertificates, planCertificates, stateLayout } from './lab-certs.ts';
import { labPlan } from './lab-plan.ts';

const root = resolve(import.meta.dirname, '..');

describe('lab certificates, issued in one place (issue 19, item 9)', () => {
  it('npm start: the CA apart, each TLS agent a directory with only its own key', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'mxlab-certs-'));
    try {
      // A state directory of the earlier layout: the CA key beside every agent's key.
      const tls = join(stateDir, 'tls');
      await issueLabCertificates({ caDir: tls, outDir: join(stateDir, 'unused'), clientsDir: join(stateDir, 'unused') }, []);
      await writeFile(join(tls, 'alpha-mta.key'), 'old');
      const plan = labPlan({ root, stateDir, env: { MXLAB_LOOPBACK_NET: '127.86', MXLAB_PROFILES: 'cluster' } });
      const requests = planCertificates(plan);
      assert.deepEqual(requests.map((request) => request.agent).sort(), Object.keys(AGENT_TLS_NAMES).sort());
      await issueLabCertificates(stateLayout(stateDir), requests);

      assert.deepEqual((await readdir(join(tls, 'ca'))).sort(), ['ca.crt', 'ca.key']);
      const top = (await readdir(tls, { withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
      assert.deepEqual(top, ['ca.crt'], 'the old shared keys are gone; clients find ca.crt');
      const ca = new X509Certificate(await readFile(join(tls, 'ca.crt')));
      for (const request of requests) {
        const dir = join(tls, request.agent);
        assert.deepEqual((await readdir(dir)).sort(), ['ca.crt', `${request.agent}.crt`, `${request.agent}.key`].sort(), request.agent);
        const cert = new X509Certificate(await readFile(join(dir, `${request.agent}.crt`)));
        assert.ok(cert.checkIssued(ca), `${request.agent} is signed by the lab CA`);
        for (const name of AGENT_TLS_NAMES[request.agent as TlsAgent]) assert.ok(cert.checkHost(name), `${request.agent}: ${name}`);
        assert.ok(cert.checkIP('127.0.0.1') && cert.checkHost('localhost'), `${request.agent}: localhost`);
        const agent = plan.find((item) => item.name === request.agent);
        assert.equal(agent?.env.MXLAB_TLS_DIR, dir, `${request.agent} is pointed at its own directory`);
      }
      const mua = plan.find((item) => item.name === 'mua');
      assert.equal(mua?.env.MXLAB_TLS_DIR, tls, 'the web mail reads ca.crt only');
      for (const agent of plan.filter((item) => !(item.name in AGENT_TLS_NAMES) && item.name !== 'mua')) {
        assert.equal(agent.env.MXLAB_TLS_DIR, undefined, `${agent.name} needs no TLS directory`);
      }
    } finally {
      await rm(stateDir, { recursive: true, force: true });
    }
  });

  it('compose.yaml: the certs service alone holds the CA; each agent mounts only its own certificate, read-only', async () => {
    const compose = parse(await readFile(join(root, 'compose.yaml'), 'utf8'), { merge: true }) as {
      services: Record<string, { environment?: Record<string, string>; volumes?: string[]; depends_on?: Record<string, { condition: string }>; network_mode?: string }>;
    };
    const certs = compose.services.certs;
    assert.ok(certs, 'a certs service');
    assert.equal(certs.network_mode, 'none');
    assert.deepEqual(certs.volumes?.map((volume) => volume.split(':')[1]).sort(), composeMountPoints().sort());
    assert.ok(certs.volumes?.includes(`tls-ca:${COMPOSE_LAYOUT.caDir}`));
    const tlsAgents = new Set(composeCertificates().map((request) => request.agent));
    for (const [name, service] of Object.entries(compose.services)) {
      if (name === 'certs') continue;
      const tlsVolumes = (service.volumes ?? []).filter((volume) => volume.startsWith('tls'));
      assert.ok(!tlsVolumes.some((volume) => volume.startsWith('tls-ca:')), `${name} must not mount the CA`);
      if (tlsAgents.has(name)) {
        assert.deepEqual(tlsVolumes, [`tls-${name}:/var/lib/mxlab/tls:ro`], name);
        assert.equal(service.depends_on?.certs?.condition, 'service_completed_successfully', `${name} waits for its certificate`);
        const env = service.environment ?? {};
        const prefix = env.MTA_NAME ? 'MTA' : 'MRA';
        const names = [env[`${prefix}_HOSTNAME`], ...(env[`${prefix}_TLS_NAMES`] ?? '').split(',')].filter((item): item is string => Boolean(item));
        const issued: readonly string[] = AGENT_TLS_NAMES[name as TlsAgent];
        for (const host of names) assert.ok(issued.includes(host), `${name} answers to ${host}: add it to AGENT_TLS_NAMES`);
      } else if (name === 'mua' || name === 'exercise') {
        assert.deepEqual(tlsVolumes, ['tls-clients:/var/lib/mxlab/tls:ro'], name);
      } else {
        assert.deepEqual(tlsVolumes, [], `${name} serves no TLS`);
      }
    }
  });
});
