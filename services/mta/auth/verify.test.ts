import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { sealMessage } from 'mailauth';
import { loadSigningKeys, type SigningKey } from './keys.ts';
import { signMessage } from './sign.ts';
import { zoneResolver } from '../testing/auth-dns.ts';
import { QUARANTINE_HEADER, stripOurFields, verifyInbound, type VerifySettings } from './verify.ts';

const KEYS_DIR = fileURLToPath(new URL('./keys/', import.meta.url));
const keys = await loadSigningKeys(KEYS_DIR, ['alpha.test', 'beta.test'], ['lab1', 'lab1e']);
const betaKey = keys.get('beta.test')?.[0] as SigningKey;
// Compose addresses, as the zone files hold them.
const ALPHA_MTA = '172.28.0.10';
const BETA_MX2 = '172.28.0.21';
const OUTSIDE = '203.0.113.7';

function message(from: string, body = 'Hello Bob,\r\nlunch at noon?\r\n'): Buffer {
  return Buffer.from(
    [`From: ${from}`, 'To: Bob <bob@beta.test>', 'Subject: lunch', 'Date: Thu, 03 Dec 2026 08:00:00 +0000', 'Message-ID: <t1@alpha.test>', '', body].join('\r\n'),
  );
}

async function signed(from: string, domain: string): Promise<Buffer> {
  const outcome = await signMessage(message(from), keys);
  assert.equal(outcome.signed, true, `signed as ${domain}`);
  return outcome.message;
}

function settings(overrides: Partial<VerifySettings> = {}): VerifySettings {
  return { authservId: 'mx1.beta.test', resolver: zoneResolver().resolve, trustedSealers: ['beta.test'], ...overrides };
}

function authResults(headers: string[]): string {
  const field = headers.find((header) => header.startsWith('Authentication-Results:'));
  assert.ok(field, `an Authentication-Results field in ${JSON.stringify(headers)}`);
  return field.replace(/\r\n[ \t]+/gu, ' ');
}

describe('verifyInbound', () => {
  it('passes SPF, both DKIM signatures and DMARC for alice signed and sent from alpha-mta', async () => {
    const verdict = await verifyInbound(await signed('Alice <alice@alpha.test>', 'alpha.test'), { clientAddress: ALPHA_MTA, helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' }, settings());
    assert.equal(verdict.action, 'accept');
    const ar = authResults(verdict.trace);
    assert.match(ar, /^Authentication-Results: mx1\.beta\.test;/u);
    assert.match(ar, /spf=pass [^;]*smtp\.mailfrom=alpha\.test/u);
    assert.match(ar, /dkim=pass [^;]*header\.d=alpha\.test[^;]*header\.s=lab1[ ;]/u);
    assert.match(ar, /dkim=pass [^;]*header\.s=lab1e/u);
    assert.match(ar, /dmarc=pass [^;]*header\.from=alpha\.test/u);
    assert.match(ar, /spf=\w+ smtp\.helo=mx\.alpha\.test/u);
    assert.equal(verdict.trace.filter((header) => header.startsWith('Authentication-Results:')).length, 1);
    assert.deepEqual(verdict.summary.dkim.map((row) => row.result), ['pass', 'pass']);
  });

  it('passes a bounce from beta-mx2 (null MAIL FROM) by its HELO name\'s SPF record, aligned with its From', async () => {
    const bounce = message('Mail Delivery System <MAILER-DAEMON@mx2.beta.test>');
    const verdict = await verifyInbound(bounce, { clientAddress: BETA_MX2, helo: 'mx2.beta.test', mailFrom: '' }, settings({ authservId: 'mx.alpha.test' }));
    assert.equal(verdict.action, 'accept', verdict.reason);
    const ar = authResults(verdict.trace);
    assert.match(ar, /spf=pass [^;]*smtp\.helo=mx2\.beta\.test/u);
    assert.match(ar, /dmarc=pass [^;]*header\.from=mx2\.beta\.test/u);
    assert.equal(ar.match(/smtp\.helo=/gu)?.length, 1, 'the HELO is checked once');
    assert.equal(verdict.summary.helo, 'pass');
  });

  it('publishes the cluster profile\'s policies: gamma.test p=none (a failure delivered, noted), delta.test p=quarantine', async () => {
    const resolver = zoneResolver(['alpha.test', 'beta.test', 'gamma.test', 'delta.test']);
    const gamma = await verifyInbound(message('Dave <dave@gamma.test>'), { clientAddress: OUTSIDE, helo: 'relay.example', mailFrom: 'dave@gamma.test' }, settings({ resolver: resolver.resolve }));
    assert.deepEqual([gamma.action, gamma.summary.dmarc.result, gamma.summary.dmarc.policy], ['accept', 'fail', 'none']);
    const delta = await verifyInbound(message('Grace <grace@delta.test>'), { clientAddress: OUTSIDE, helo: 'relay.example', mailFrom: 'grace@delta.test' }, settings({ resolver: resolver.resolve }));
    assert.deepEqual([delta.action, delta.summary.dmarc.policy], ['quarantine', 'quarantine']);
    const signedByGamma = await signMessage(message('Dave <dave@gamma.test>'), await loadSigningKeys(KEYS_DIR, ['gamma.test', 'delta.test'], ['lab1', 'lab1e']));
    const passed = await verifyInbound(signedByGamma.message, { clientAddress: OUTSIDE, helo: 'relay.example', mailFrom: 'dave@gamma.test' }, settings({ resolver: resolver.resolve }));
    assert.deepEqual(passed.summary.dkim.map((row) => [row.domain, row.selector, row.result]), [['gamma.test', 'lab1', 'pass'], ['gamma.test', 'lab1e', 'pass']]);
    assert.equal(passed.summary.dmarc.result, 'pass');
  });

  it('refuses a forged alice sent from outside: DMARC fails and alpha publishes p=reject', async () => {
    const verdict = await verifyInbound(message('Alice <alice@alpha.test>'), { clientAddress: OUTSIDE, helo: 'forger.example', mailFrom: 'alice@alpha.test' }, settings());
    assert.equal(verdict.action, 'reject');
    assert.equal(verdict.summary.spf, 'fail');
    assert.equal(verdict.summary.dmarc.result, 'fail');
    assert.equal(verdict.summary.dmarc.policy, 'reject');
    assert.match(verdict.reason, /alpha\.test fails DMARC \(spf=fail, dkim=none, not aligned\), and its policy is p=reject/u);
  });

  it('quarantines a beta message whose body changed after signing (dkim=fail, dmarc=fail)', async () => {
    const original = await signed('Carol <carol@beta.test>', 'beta.test');
    const altered = Buffer.from(original.toString('latin1').replace('lunch at noon?', 'lunch at noon!'), 'latin1');
    const verdict = await verifyInbound(altered, { clientAddress: OUTSIDE, helo: 'relay.example', mailFrom: 'carol@beta.test' }, settings());
    assert.equal(verdict.action, 'quarantine');
    const ar = authResults(verdict.trace);
    assert.match(ar, /dkim=fail [^;]*header\.d=beta\.test/u);
    assert.match(ar, /dmarc=fail [^;]*header\.from=beta\.test/u);
    assert.ok(verdict.trace.some((header) => header.startsWith(`${QUARANTINE_HEADER}: `)));
  });

  it('delivers and notes a DMARC failure of a domain without a reject or quarantine policy', async () => {
    const resolver = zoneResolver();
    resolver.setTxt('_dmarc.beta.test', ['v=DMARC1; p=none']);
    const verdict = await verifyInbound(message('Carol <carol@beta.test>'), { clientAddress: OUTSIDE, helo: 'relay.example', mailFrom: 'carol@beta.test' }, settings({ resolver: resolver.resolve }));
    assert.equal(verdict.action, 'accept');
    assert.equal(verdict.summary.dmarc.result, 'fail');
    assert.match(verdict.reason, /p=none, delivered/u);
  });

  it('answers temperror, never pass, when the DMARC record cannot be fetched', async () => {
    const resolver = zoneResolver();
    resolver.fail('_dmarc.alpha.test', 'ETIMEOUT');
    const verdict = await verifyInbound(await signed('alice@alpha.test', 'alpha.test'), { clientAddress: ALPHA_MTA, helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' }, settings({ resolver: resolver.resolve }));
    assert.equal(verdict.action, 'tempfail');
    assert.equal(verdict.summary.dmarc.result, 'temperror');
    assert.match(authResults(verdict.trace), /dmarc=temperror/u);
  });

  it('answers tempfail when SPF and the DKIM keys time out, though DMARC itself has an answer', async () => {
    const resolver = zoneResolver();
    resolver.fail('alpha.test', 'ETIMEOUT');
    resolver.fail('lab1._domainkey.alpha.test', 'ETIMEOUT');
    resolver.fail('lab1e._domainkey.alpha.test', 'ETIMEOUT');
    const verdict = await verifyInbound(await signed('alice@alpha.test', 'alpha.test'), { clientAddress: ALPHA_MTA, helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' }, settings({ resolver: resolver.resolve }));
    assert.equal(verdict.action, 'tempfail');
    assert.notEqual(verdict.summary.dmarc.result, 'pass');
  });

  it('removes Authentication-Results claiming our authserv-id, keeps other servers\' and our own body', async () => {
    const forged = Buffer.concat([
      Buffer.from('Authentication-Results: mx1.beta.test;\r\n dkim=pass header.d=alpha.test\r\nAuthentication-Results: mx.other.example; spf=fail\r\nX-Mxlab-Quarantine: no\r\n'),
      message('alice@alpha.test'),
    ]);
    const stripped = stripOurFields(forged, 'mx1.beta.test').toString('latin1');
    assert.doesNotMatch(stripped, /mx1\.beta\.test/u);
    assert.doesNotMatch(stripped, /X-Mxlab-Quarantine/u);
    assert.match(stripped, /^Authentication-Results: mx\.other\.example; spf=fail\r\nFrom: alice@alpha\.test\r\n/u);
    assert.ok(stripped.endsWith('lunch at noon?\r\n'));
  });

  it('seals with ARC at the backup MX, and the primary finds arc=pass and dmarc=pass', async () => {
    const atBackup = await verifyInbound(
      await signed('Alice <alice@alpha.test>', 'alpha.test'),
      { clientAddress: ALPHA_MTA, helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' },
      settings({ authservId: 'mx2.beta.test', seal: betaKey }),
    );
    assert.equal(atBackup.action, 'accept');
    for (const name of ['ARC-Seal', 'ARC-Message-Signature', 'ARC-Authentication-Results']) {
      assert.ok(atBackup.arcSet.some((header) => header.startsWith(`${name}: i=1;`)), name);
    }
    // As the backup MX queues it: the ARC set on top, its Received, its Authentication-Results.
    const received = 'Received: from mx.alpha.test ([172.28.0.10])\r\n\tby mx2.beta.test (mxlab beta-mx2) with ESMTPS id 1\r\n\tfor <bob@beta.test>; Thu, 3 Dec 2026 08:00:01 +0000\r\n';
    const forwarded = Buffer.concat([Buffer.from([...atBackup.arcSet, received, ...atBackup.trace].join('')), atBackup.message]);
    const atPrimary = await verifyInbound(forwarded, { clientAddress: BETA_MX2, helo: 'mx2.beta.test', mailFrom: 'alice@alpha.test' }, settings());
    assert.equal(atPrimary.action, 'accept');
    assert.equal(atPrimary.summary.arc, 'pass');
    assert.deepEqual(atPrimary.summary.trustedForwarder, { sealer: 'beta.test', spf: 'pass' }, 'the SPF result where the message entered, for the caller');
    const untrusted = await verifyInbound(forwarded, { clientAddress: BETA_MX2, helo: 'mx2.beta.test', mailFrom: 'alice@alpha.test' }, settings({ trustedSealers: [] }));
    assert.equal(untrusted.summary.trustedForwarder, undefined);
    assert.match(authResults(atPrimary.trace), /arc=pass/u);
    assert.match(authResults(atPrimary.trace), /dmarc=pass/u);
  });

  it('forgives a DMARC failure only when a trusted sealer vouched for dmarc=pass', async () => {
    const original = await signed('Alice <alice@alpha.test>', 'alpha.test');
    const atBackup = await verifyInbound(original, { clientAddress: ALPHA_MTA, helo: 'mx.alpha.test', mailFrom: 'alice@alpha.test' }, settings({ authservId: 'mx2.beta.test' }));
    // A forwarder that changes the body (a list footer) and seals what it sends, with what it found on arrival.
    const changed = Buffer.from(original.toString('latin1').replace('lunch at noon?\r\n', 'lunch at noon?\r\n-- \r\nvia the list\r\n'), 'latin1');
    const authResultsValue = authResults(atBackup.trace).replace(/^Authentication-Results: /u, '').trimEnd();
    const seal = await sealMessage(changed, { signingDomain: 'beta.test', selector: 'lab1', privateKey: betaKey.privateKey, authResults: authResultsValue, cv: 'none' });
    const forwarded = Buffer.concat([seal, changed]);
    const envelope = { clientAddress: BETA_MX2, helo: 'mx2.beta.test', mailFrom: 'alice@alpha.test' };

    const trusted = await verifyInbound(forwarded, envelope, settings());
    assert.equal(trusted.summary.dmarc.result, 'fail');
    assert.equal(trusted.summary.arc, 'pass');
    assert.equal(trusted.action, 'accept');
    assert.match(authResults(trusted.trace), /dmarc=fail \(local policy: trusted ARC sealer beta\.test\)/u);

    const untrusted = await verifyInbound(forwarded, envelope, settings({ trustedSealers: [] }));
    assert.equal(untrusted.action, 'reject');
  });
});
