import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { ensureServerCertificate, issueServerCertificate, withinLabNames } from './tls.ts';

describe('lab TLS', () => {
  it('makes one CA and a server certificate that a client verifies by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-'));
    const [a, b] = await Promise.all([
      ensureServerCertificate(dir, 'alpha-mta', ['mx.alpha.test', 'smtp.alpha.test', '127.0.0.1']),
      ensureServerCertificate(dir, 'beta-mx1', ['mx1.beta.test']),
    ]);
    assert.equal(a.ca, b.ca);
    const again = await ensureServerCertificate(dir, 'alpha-mta', ['mx.alpha.test']);
    assert.equal(again.cert, a.cert, 'reused after first start');

    const server = tls.createServer({ cert: a.cert, key: a.key }, (socket) => socket.end('hi'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'mx.alpha.test', ca: a.ca });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    socket.destroy();
    server.close();
  });
});

describe('lab CA: name constraints, and agents that only read', () => {
  it('is constrained to .test, localhost and the lab networks; a client refuses any other name it signs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-nc-'));
    const lab = await issueServerCertificate(join(dir, 'ca'), join(dir, 'alpha-mta'), 'alpha-mta', ['mx.alpha.test', '172.28.0.10', '127.28.0.10']);
    const text = execFileSync('openssl', ['x509', '-noout', '-ext', 'nameConstraints'], { input: lab.ca }).toString();
    assert.match(text, /X509v3 Name Constraints: critical/u);
    for (const permitted of ['DNS:test', 'DNS:localhost', 'IP:127.0.0.0/255.0.0.0', 'IP:172.28.0.0/255.255.255.0']) assert.ok(text.includes(permitted), `${permitted} in\n${text}`);
    await assert.rejects(issueServerCertificate(join(dir, 'ca'), join(dir, 'evil'), 'evil', ['www.example.com']), /signs only .*not www\.example\.com/u);

    // Forge what the constraints are for: the CA key signing a real site's name.
    const forged = await forge(join(dir, 'ca'), 'www.example.com');
    // Node names OpenSSL's X509_V_ERR_PERMITTED_VIOLATION only UNSPECIFIED; openssl says which check failed.
    assert.notEqual(await handshake(forged, lab.ca, 'www.example.com'), 'authorized');
    const dirForged = join(dir, 'forged.pem');
    await writeFile(dirForged, forged.cert.slice(0, forged.cert.indexOf('-----END CERTIFICATE-----') + 25));
    const verify = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca', 'ca.crt'), dirForged]);
    assert.notEqual(verify.status, 0);
    assert.match(`${verify.stdout.toString()}${verify.stderr.toString()}`, /permitted subtree violation/u);
    assert.equal(await handshake(lab, lab.ca, 'mx.alpha.test'), 'authorized');
    assert.equal(withinLabNames('mx1.beta.test'), true);
    assert.equal(withinLabNames('test.example'), false);
    assert.equal(withinLabNames('10.0.0.1'), false);
  });

  it('replaces a CA made before the constraints, and every certificate with it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-old-'));
    const caDir = join(dir, 'ca');
    const first = await issueServerCertificate(caDir, join(dir, 'a'), 'a', ['mx.alpha.test']);
    // An unconstrained CA, as earlier versions made.
    const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
    const old = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01', name: 'CN=old', keys, signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
    });
    await writeFile(join(caDir, 'ca.crt'), old.toString('pem'));
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
    await writeFile(join(caDir, 'ca.key'), `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`);
    const again = await issueServerCertificate(caDir, join(dir, 'a'), 'a', ['mx.alpha.test']);
    assert.notEqual(again.ca, old.toString('pem'));
    assert.notEqual(again.ca, first.ca, 'a new constrained CA');
    assert.match(execFileSync('openssl', ['x509', '-noout', '-ext', 'nameConstraints'], { input: again.ca }).toString(), /DNS:test/u);
    assert.notEqual(again.cert, first.cert, 'the certificate follows its new CA');
  });

  it('an agent given its certificate uses it and never signs one: a missing name is an error naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-agent-'));
    const agentDir = join(dir, 'alpha-mta');
    const issued = await issueServerCertificate(join(dir, 'ca'), agentDir, 'alpha-mta', ['mx.alpha.test', 'smtp.alpha.test']);
    const used = await ensureServerCertificate(agentDir, 'alpha-mta', ['mx.alpha.test', 'smtp.alpha.test']);
    assert.equal(used.cert, issued.cert);
    await assert.rejects(ensureServerCertificate(agentDir, 'alpha-mta', ['mx.alpha.test', 'other.alpha.test']), /does not name all of mx\.alpha\.test, other\.alpha\.test/u);
    assert.deepEqual((await readdir(agentDir)).sort(), ['alpha-mta.crt', 'alpha-mta.key', 'ca.crt'], 'no CA key, nothing written');
  });
});

/** A certificate for `name` signed with the CA key in `caDir`, bypassing the issuer's check. */
async function forge(caDir: string, name: string): Promise<{ cert: string; key: string }> {
  const caPem = await readFile(join(caDir, 'ca.crt'), 'utf8');
  const caKeyPem = await readFile(join(caDir, 'ca.key'), 'utf8');
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKey = await webcrypto.subtle.importKey('pkcs8', Buffer.from(caKeyPem.replace(/-----[^-]+-----|\s/gu, ''), 'base64'), algorithm, true, ['sign']);
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const ca = new x509.X509Certificate(caPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: `CN=${name}`, issuer: ca.subject, publicKey: keys.publicKey, signingKey: caKey, signingAlgorithm: algorithm,
    notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]), new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth])],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { cert: `${cert.toString('pem')}\n${caPem}`, key: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n` };
}

/** 'authorized', or the client's verification error. */
async function handshake(files: { cert: string; key: string }, ca: string, servername: string): Promise<string> {
  const server = tls.createServer({ cert: files.cert, key: files.key }, (socket) => socket.end());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  try {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, ca, rejectUnauthorized: false });
    await once(socket, 'secureConnect');
    const outcome = socket.authorized ? 'authorized' : String(socket.authorizationError);
    socket.destroy();
    return outcome;
  } finally {
    server.close();
  }
}
