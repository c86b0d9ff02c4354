/**
 * The lab CA and server certificates, made at first start without network and reused
 * after: `<dir>/ca.crt` + `ca.key` once per lab, then `<name>.crt` + `<name>.key` per
 * agent, signed by the CA, with every host name the agent answers to. Clients trust
 * `ca.crt` (the MUA, the tests, and people who import it).
 */
import { webcrypto, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createFileOnce, readIfExists, replaceFile } from './files.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

export interface TlsFiles {
  ca: string;
  cert: string;
  key: string;
}

function pemKey(der: ArrayBuffer): string {
  const body = Buffer.from(der).toString('base64').replace(/.{64}/gu, '$&\n').replace(/\n$/u, '');
  return `-----BEGIN PRIVATE KEY-----\n${body}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/gu, ''), 'base64');
  return (await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign'])) as CryptoKey;
}

async function ensureCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey; pem: string }> {
  const certPath = join(dir, 'ca.crt');
  const keyPath = join(dir, 'ca.key');
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const [certPem, keyPem] = [await readIfExists(certPath), await readIfExists(keyPath)];
    if (certPem !== undefined && keyPem !== undefined) {
      return { cert: new x509.X509Certificate(certPem), key: await importKey(keyPem), pem: certPem };
    }
    if (keyPem === undefined) {
      const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
      const now = Date.now();
      const cert = await x509.X509CertificateGenerator.createSelfSigned({
        serialNumber: randomBytes(8).toString('hex'),
        name: 'CN=mxlab lab CA, O=mxlab',
        notBefore: new Date(now - DAY_MS),
        notAfter: new Date(now + 3650 * DAY_MS),
        keys,
        signingAlgorithm: ALGORITHM,
        extensions: [
          new x509.BasicConstraintsExtension(true, 0, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
          await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
        ],
      });
      const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
      // The key is the lock: whoever links it first also writes the certificate.
      if (await createFileOnce(keyPath, pemKey(pkcs8), 0o600)) {
        await createFileOnce(certPath, cert.toString('pem') + '\n', 0o644);
        continue;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`lab CA in ${dir} is incomplete (ca.key without ca.crt)`);
}

/** Returns PEM text for a server certificate valid for `hostnames`, made if missing or stale. */
export async function ensureServerCertificate(dir: string, name: string, hostnames: readonly string[]): Promise<TlsFiles> {
  await mkdir(dir, { recursive: true });
  const ca = await ensureCa(dir);
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  const [certPem, keyPem] = [await readIfExists(certPath), await readIfExists(keyPath)];
  if (certPem !== undefined && keyPem !== undefined) {
    const existing = new X509Certificate(certPem);
    const covers = hostnames.every((host) => existing.checkHost(host) !== undefined || existing.checkIP(host) !== undefined);
    if (covers && existing.checkIssued(new X509Certificate(ca.pem)) && Date.parse(existing.validTo) > Date.now() + DAY_MS) {
      return { ca: ca.pem, cert: certPem, key: keyPem };
    }
  }
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const names = hostnames.map((host) =>
    /^[\d.]+$|:/u.test(host) ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host },
  );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomBytes(8).toString('hex'),
    subject: `CN=${hostnames[0] ?? name}, O=mxlab`,
    issuer: ca.cert.subject,
    notBefore: new Date(now - DAY_MS),
    notAfter: new Date(now + 825 * DAY_MS),
    publicKey: keys.publicKey,
    signingKey: ca.key,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(names),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey);
  const newKey = pemKey(pkcs8);
  const newCert = cert.toString('pem') + '\n' + ca.pem;
  await replaceFile(keyPath, newKey, 0o600);
  await replaceFile(certPath, newCert, 0o644);
  return { ca: ca.pem, cert: newCert, key: newKey };
}

/** The lab CA certificate, for clients that must trust the lab's servers. */
export async function readLabCa(dir: string): Promise<string> {
  return readFile(join(dir, 'ca.crt'), 'utf8');
}
