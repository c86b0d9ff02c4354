import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

const root = resolve(import.meta.dirname, '..');

interface Service {
  build?: { args?: Record<string, string> };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  image?: string;
  read_only?: boolean;
  mem_limit?: string;
  pids_limit?: number;
}

async function services(file: string): Promise<Record<string, Service>> {
  return (parse(await readFile(join(root, file), 'utf8'), { merge: true }) as { services: Record<string, Service> }).services;
}

/** clamd and spamd keep sockets, pid files and databases in their images' own paths. */
const WRITABLE_ENGINES = new Set(['clamav', 'spamassassin']);

describe('compose.yaml bounds every container (issue 19, Low)', () => {
  it('runs every agent on a read-only root with a memory and a PID limit', async () => {
    for (const [name, service] of Object.entries(await services('compose.yaml'))) {
      assert.ok(service.mem_limit, `${name}: mem_limit`);
      assert.ok(service.pids_limit && service.pids_limit <= 256, `${name}: pids_limit`);
      if (!WRITABLE_ENGINES.has(name)) assert.equal(service.read_only, true, `${name}: read_only`);
    }
  });

  it('compose.offline.yaml builds the agents\' image from the offline base image wherever compose.yaml builds it', async () => {
    const online = await services('compose.yaml');
    const offline = await services('compose.offline.yaml');
    const builders = Object.entries(online).filter(([, service]) => service.build !== undefined && (service.build as { context?: string }).context === '.');
    assert.ok(builders.length > 0, 'compose.yaml builds the agents\' image somewhere');
    for (const [name] of builders) {
      assert.equal(offline[name]?.build?.args?.NODE_IMAGE, 'mxlab/node:24-offline', `${name} in compose.offline.yaml`);
    }
  });
});

describe('compose.yaml mounts a fault plan the user names (issue 16: MXLAB_CHAOS_PLAN)', () => {
  it('gives every MTA and the caller the file at /etc/mxlab/chaos-plan.json, read-only, and points them at it', async () => {
    const all = Object.entries(await services('compose.yaml'));
    const agents = all.filter(([, service]) => /services\/(mta|caller)\/main\.ts/u.test((service.command ?? []).join(' ')));
    assert.ok(agents.length >= 9, `${agents.length} MTAs and caller`);
    for (const [name, service] of agents) {
      assert.ok(service.volumes?.includes('${MXLAB_CHAOS_PLAN:-./docs/chaos/no-faults.json}:/etc/mxlab/chaos-plan.json:ro'), `${name}: the plan mount`);
      const variable = name === 'caller' ? 'CALLER_CHAOS_PLAN' : 'MTA_CHAOS_PLAN';
      assert.equal(service.environment?.[variable], '/etc/mxlab/chaos-plan.json', `${name}: ${variable}`);
    }
    const unset = JSON.parse(await readFile(join(root, 'docs', 'chaos', 'no-faults.json'), 'utf8')) as { mtas: Record<string, unknown> };
    assert.deepEqual(unset.mtas, {}, 'the default plan has no rules');
  });
});
