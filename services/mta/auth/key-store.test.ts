import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { zoneResolver } from '../testing/auth-dns.ts';
import { DkimKeyStore } from './key-store.ts';
import { signMessage } from './sign.ts';
import { verifyInbound } from './verify.ts';

const SHIPPED = fileURLToPath(new URL('./keys/', import.meta.url));
const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function store(stateDir?: string, resolver = zoneResolver()) {
  const dir = stateDir ?? (await mkdtemp(join(tmpdir(), 'mxlab-dkim-')));
  dirs.push(dir);
  const keys = await DkimKeyStore.open({
    shippedDir: SHIPPED, stateDir: dir, domains: ['alpha.test'], selectors: ['lab1', 'lab1e'],
    lookup: async (name) => (await resolver.resolve(name, 'TXT')) as string[][],
  });
  return { keys, dir, resolver };
}

const letter = Buffer.from('From: Alice <alice@alpha.test>\r\nTo: bob@beta.test\r\nSubject: rotated\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\nMessage-ID: <r1@alpha.test>\r\n\r\nhi\r\n');

describe('DKIM key store', () => {
  it('signs with the shipped keys, whose public halves are the records the lab zones publish', async () => {
    const resolver = zoneResolver(['alpha.test', 'beta.test', 'gamma.test', 'delta.test']);
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-dkim-'));
    dirs.push(dir);
    const keys = await DkimKeyStore.open({
      shippedDir: SHIPPED, stateDir: dir, domains: ['alpha.test', 'beta.test', 'gamma.test', 'delta.test'], selectors: ['lab1', 'lab1e'],
      lookup: async (name) => (await resolver.resolve(name, 'TXT')) as string[][],
    });
    const domains = keys.list();
    assert.deepEqual(domains.map((domain) => [domain.domain, domain.signing]), [
      ['alpha.test', ['lab1', 'lab1e']], ['beta.test', ['lab1', 'lab1e']], ['gamma.test', ['lab1', 'lab1e']], ['delta.test', ['lab1', 'lab1e']],
    ]);
    for (const key of domains.flatMap((domain) => domain.keys)) {
      const published = ((await resolver.resolve(key.dnsName, 'TXT')) as string[][]).map((strings) => strings.join(''));
      assert.ok(published.includes(key.record), `${key.dnsName}: zone has ${published.join(' | ')}, key is ${key.record}`);
    }
    assert.doesNotMatch(JSON.stringify(keys.list()), /PRIVATE KEY/u);
  });

  it('rotates: a new selector, refused until published, then signed with, kept over a restart', async () => {
    const { keys, dir, resolver } = await store();
    const made = await keys.generate('alpha.test', 'lab2');
    assert.equal(made.ok, true);
    if (!made.ok) return;
    assert.equal((await stat(join(dir, 'alpha.test', 'lab2.pem'))).mode & 0o777, 0o600);
    assert.match(made.value.record, /^v=DKIM1; k=rsa; p=MII/u);
    assert.deepEqual(await keys.generate('alpha.test', 'lab2'), { ok: false, status: 409, error: 'lab2._domainkey.alpha.test has a key already; a new key takes a new selector' });
    assert.equal((await keys.generate('beta.test', 'lab2')).ok, false);
    assert.equal((await keys.generate('alpha.test', 'Lab_2')).ok, false);

    const early = await keys.use('alpha.test', ['lab2']);
    assert.equal(early.ok, false);
    assert.match(early.ok ? '' : early.error, /^lab2\._domainkey\.alpha\.test is not published yet \(no such TXT record\): publish "v=DKIM1; k=rsa; p=/u);
    resolver.setTxt('lab2._domainkey.alpha.test', ['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong']);
    const other = await keys.use('alpha.test', ['lab2']);
    assert.match(other.ok ? '' : other.error, /publishes another key/u);
    // Published as a zone file writes a long record: split into strings.
    const record = made.value.record;
    resolver.setTxt('lab2._domainkey.alpha.test', [record.slice(0, 200), record.slice(200)]);
    const used = await keys.use('alpha.test', ['lab2']);
    assert.equal(used.ok, true, used.ok ? '' : used.error);
    assert.deepEqual(keys.signingKeys('alpha.test').map((key) => key.selector), ['lab2']);

    const signed = await signMessage(letter, { get: (domain) => keys.signingKeys(domain) });
    assert.equal(signed.signed, true);
    const verdict = await verifyInbound(signed.message, { clientAddress: '172.28.0.10', helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' }, { authservId: 'mx1.beta.test', resolver: resolver.resolve, trustedSealers: [] });
    assert.deepEqual(verdict.summary.dkim, [{ domain: 'alpha.test', selector: 'lab2', result: 'pass' }]);

    const reopened = await store(dir, resolver);
    assert.deepEqual(reopened.keys.signingKeys('alpha.test').map((key) => key.selector), ['lab2']);
    assert.deepEqual(reopened.keys.list()[0]?.keys.map((key) => [key.selector, key.source]), [['lab1', 'shipped'], ['lab1e', 'shipped'], ['lab2', 'generated']]);
  });
});
