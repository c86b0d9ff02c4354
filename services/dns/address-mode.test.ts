import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { addressModeOf, loadDnsConfig } from './config.ts';
import { loadZones } from './zone-store.ts';

const ZONES_DIR = fileURLToPath(new URL('./zones/', import.meta.url));

function addresses(store: Awaited<ReturnType<typeof loadZones>>, name: string): string[] {
  const found = store.lookup(name);
  assert.equal(found.kind, 'found', `${name} is in the zones`);
  return found.kind === 'found' ? found.records.filter((record) => record.type === 'A').map((record) => String(record.data)) : [];
}

describe('DNS_ADDRESS_MODE=network (a testcontainers lab on a /24 of its own)', () => {
  it('serves every compose A record at the same host number on DNS_NETWORK', async () => {
    const config = loadDnsConfig({ DNS_ADDRESS_MODE: 'network', DNS_NETWORK: '172.28.7.0/24' });
    assert.deepEqual(addressModeOf(config), { network: '172.28.7' });
    const store = await loadZones(ZONES_DIR, addressModeOf(config));
    assert.deepEqual(addresses(store, 'mx1.beta.test'), ['172.28.7.20']);
    assert.deepEqual(addresses(store, 'mx2.beta.test'), ['172.28.7.21']);
    assert.deepEqual(addresses(store, 'mx1.gamma.test').sort(), ['172.28.7.30', '172.28.7.31']);
    assert.deepEqual(addresses(store, 'ns.alpha.test'), ['172.28.7.2']);
  });

  it('refuses the mode without a network, and a network that is not a /24', () => {
    assert.throws(() => loadDnsConfig({ DNS_ADDRESS_MODE: 'network' }), /DNS_NETWORK must name the \/24/u);
    assert.throws(() => loadDnsConfig({ DNS_ADDRESS_MODE: 'network', DNS_NETWORK: '10.0.0.0/16' }), /DNS_NETWORK/u);
    assert.throws(() => loadDnsConfig({ DNS_ADDRESS_MODE: 'network', DNS_NETWORK: '300.1.2.0/24' }), /DNS_NETWORK/u);
  });

  it('leaves the other modes as they were', async () => {
    assert.equal(addressModeOf(loadDnsConfig({})), 'loopback');
    assert.deepEqual(addresses(await loadZones(ZONES_DIR, 'compose'), 'mx1.beta.test'), ['172.28.0.20']);
  });
});
