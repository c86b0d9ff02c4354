/**
 * The module's own picture of the lab (world.ts, compose/lab.yaml) against the
 * repository's (shared/lab.ts, compose.yaml), and the subnet choice: no Docker needed.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AGENT_ADDRESSES, LAB_USERS as REPO_USERS } from '../../../shared/lab.ts';
import { MODULE_VERSION, DEFAULT_IMAGE } from './mail-lab.ts';
import { networkPrefix, overlaps, parseCidr, pickSubnet } from './subnet.ts';
import { AGENTS, AGENT_SPECS, LAB_USERS } from './world.ts';

const read = (path: string) => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the module lab matches the repository lab', () => {
  it('gives every agent the host number compose.yaml gives it', () => {
    for (const agent of AGENTS) {
      assert.equal(`172.28.0.${AGENT_SPECS[agent].host}`, AGENT_ADDRESSES[agent], agent);
    }
  });

  it('has the users of alpha.test and beta.test', () => {
    const repo = [...REPO_USERS['alpha.test'].map((u) => `${u}@alpha.test`), ...REPO_USERS['beta.test'].map((u) => `${u}@beta.test`)];
    assert.deepEqual([...LAB_USERS].sort(), repo.sort());
  });

  it('starts in compose/lab.yaml exactly the agents world.ts knows, each at its address', () => {
    const yaml = read('../compose/lab.yaml');
    const services = [...yaml.matchAll(/^ {2}([a-z0-9-]+):\n {4}<<: \*agent$/gmu)].map((match) => match[1]);
    // certs: the one-shot that issues the TLS servers' certificates before they start.
    assert.deepEqual(services.filter((name) => name !== 'certs').sort(), [...AGENTS].sort());
    assert.ok(services.includes('certs'));
    for (const agent of AGENTS) {
      const block = yaml.slice(yaml.indexOf(`\n  ${agent}:\n`));
      assert.match(block, new RegExp(`ipv4_address: "\\$\\{MXLAB_NET\\}\\.${AGENT_SPECS[agent].host}"`, 'u'), agent);
    }
  });

  it('runs the image compose.yaml builds: mxlab/agents:<module version>', () => {
    const pkg = JSON.parse(read('../package.json')) as { version: string };
    assert.equal(MODULE_VERSION, pkg.version);
    assert.equal(DEFAULT_IMAGE, `mxlab/agents:${pkg.version}`);
    assert.match(read('../../../compose.yaml'), new RegExp(`image: \\$\\{MXLAB_AGENTS_IMAGE:-mxlab/agents:${pkg.version.replaceAll('.', '\\.')}\\}`, 'u'));
  });
});

describe('subnet choice', () => {
  it('never picks the repository lab, a Docker network or a host interface', () => {
    const used = ['172.17.0.0/16', '172.28.5.0/24', '192.168.1.0/24'].map((text) => parseCidr(text)).filter((cidr) => cidr !== undefined);
    for (let i = 0; i < 300; i += 1) {
      const chosen = pickSubnet(used);
      const cidr = parseCidr(chosen);
      assert.ok(cidr);
      assert.notEqual(chosen, '172.28.0.0/24');
      assert.notEqual(chosen, '172.28.5.0/24');
      assert.ok(!used.some((other) => overlaps(cidr, other)), chosen);
    }
  });

  it('picks again around the ones a failed start tried, and says so when none is left', () => {
    const avoid = new Set(Array.from({ length: 253 }, (_, i) => `172.28.${i + 1}.0/24`));
    assert.equal(pickSubnet([], avoid), '172.28.254.0/24');
    assert.throws(() => pickSubnet([parseCidr('172.28.0.0/16')!]), /no free \/24 .* withSubnet/u);
  });

  it('takes a /24 only', () => {
    assert.equal(networkPrefix('10.99.3.0/24'), '10.99.3');
    assert.throws(() => networkPrefix('10.99.0.0/16'), /IPv4 \/24/u);
    assert.throws(() => networkPrefix('10.99.3.7/24'), /IPv4 \/24/u);
  });
});
