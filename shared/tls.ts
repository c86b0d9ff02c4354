/**
 * The lab CA and its server certificates. The CA lives in a directory of its own
 * (`ca.crt` + `ca.key`), held only by whoever issues: the lab launcher (`npm start`) or
 * compose's one-shot `certs` service (scripts/lab-certs.ts). Each agent's directory then
 * holds `ca.crt`, `<name>.crt` and `<name>.key` and nothing else, so an agent that parses
 * hostile content never holds a key that could sign for another name.
 *
 * The CA is name-constrained (RFC 5280 §4.2.1.10) to the lab's names and addresses: a
 * person who imports it into a browser trusts it for `.test`, `localhost` and the lab
 * networks only, never for a real site.
 */
import { webcrypto, randomBytes, X509Certificate } from 'node:crypto';
import { mkdir, readFile, unlink } from 'node:fs/promises';
import { BlockList, isIP } from 'node:net';
import { join } from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createFileOnce, readIfExists, replaceFile } from './files.ts';
import { COMPOSE_SUBNET } from './lab.ts';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const NAME_CONSTRAINTS_OID = '2.5.29.30';

/** What the lab CA may vouch for: the reserved `.test` TLD, localhost, the lab's networks. */
export const LAB_CA_PERMITTED = {
  dns: ['test', 'localhost'],
  ip: ['127.0.0.0/8', COMPOSE_SUBNET, '::1/128'],
} as const;

const PERMITTED_ADDRESSES = new BlockList();
for (const cidr of LAB_CA_PERMITTED.ip) {
  const [address = '', prefix = ''] = cidr.split('/');
  PERMITTED_ADDRESSES.addSubnet(address, Number(prefix), isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

/** True when the name constraints let the lab CA sign for `host` (RFC 5280 §4.2.1.10). */
export function withinLabNames(host: string): boolean {
  const family = isIP(host);
  if (family !== 0) return PERMITTED_ADDRESSES.check(host, family === 6 ? 'ipv6' : 'ipv4');
  const name = host.toLowerCase();
  return LAB_CA_PERMITTED.dns.some((base) => name === base || name.endsWith(`.${base}`));
}

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

/** One DER TLV (X.690 §8.1): tag, definite length, content. */
function der(tag: number, content: Buffer): Buffer {
  const length = content.length;
  if (length < 0x80) return Buffer.concat([Buffer.from([tag, length]), content]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.concat([Buffer.from([tag, 0x80 | bytes.length, ...bytes]), content]);
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number));
  const [head = '', tail = ''] = address.split('::');
  const groups = (text: string) => (text === '' ? [] : text.split(':').map((group) => parseInt(group, 16)));
  const left = groups(head);
  const right = groups(tail);
  const all = address.includes('::') ? [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right] : left;
  return Buffer.from(all.flatMap((group) => [group >> 8, group & 0xff]));
}

/** `address/prefix` as RFC 5280's iPAddress constraint: the address, then the mask. */
function ipConstraint(cidr: string): Buffer {
  const [address = '', prefixText = ''] = cidr.split('/');
  const bytes = ipBytes(address);
  const prefix = Number(prefixText);
  const mask = Buffer.alloc(bytes.length);
  for (let bit = 0; bit < prefix; bit += 1) mask[bit >> 3]! |= 0x80 >> (bit & 7);
  return Buffer.concat([bytes, mask]);
}

/** NameConstraints { permittedSubtrees [0] { GeneralSubtree { dNSName [2] | iPAddress [7] } … } }. */
export function labNameConstraints(): x509.Extension {
  const subtrees = [
    ...LAB_CA_PERMITTED.dns.map((name) => der(0x30, der(0x82, Buffer.from(name, 'ascii')))),
    ...LAB_CA_PERMITTED.ip.map((cidr) => der(0x30, der(0x87, ipConstraint(cidr)))),
  ];
  const value = der(0x30, der(0xa0, Buffer.concat(subtrees)));
  return new x509.Extension(NAME_CONSTRAINTS_OID, true, value);
}

function constrained(cert: x509.X509Certificate): boolean {
  const found = cert.extensions.find((extension) => extension.type === NAME_CONSTRAINTS_OID);
  return found !== undefined && Buffer.from(found.value).equals(Buffer.from(labNameConstraints().value));
}

interface LabCa {
  cert: x509.X509Certificate;
  key: CryptoKey;
  pem: string;
}

/** The CA in `caDir`, made at first use; one made before it had name constraints is replaced. */
export async function ensureLabCa(caDir: string): Promise<LabCa> {
  await mkdir(caDir, { recursive: true, mode: 0o700 });
  const certPath = join(caDir, 'ca.crt');
  const keyPath = join(caDir, 'ca.key');
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const [certPem, keyPem] = [await readIfExists(certPath), await readIfExists(keyPath)];
    if (certPem !== undefined && keyPem !== undefined) {
      const cert = new x509.X509Certificate(certPem);
      if (constrained(cert)) return { cert, key: await importKey(keyPem), pem: certPem };
      // An older lab's CA, trusted for any name: retire it (every certificate follows).
      await Promise.all([unlink(keyPath).catch(() => undefined), unlink(certPath).catch(() => undefined)]);
      continue;
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
          labNameConstraints(),
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
  throw new Error(`lab CA in ${caDir} is incomplete (ca.key without ca.crt)`);
}

/** The certificate in `dir`, if it names every host, comes from `caPem` and has a day left. */
async function usable(dir: string, name: string, hostnames: readonly string[], caPem: string): Promise<TlsFiles | undefined> {
  const [certPem, keyPem] = [await readIfExists(join(dir, `${name}.crt`)), await readIfExists(join(dir, `${name}.key`))];
  if (certPem === undefined || keyPem === undefined) return undefined;
  const existing = new X509Certificate(certPem);
  const covers = hostnames.every((host) => (isIP(host) !== 0 ? existing.checkIP(host) : existing.checkHost(host)) !== undefined);
  const fresh = Date.parse(existing.validTo) > Date.now() + DAY_MS;
  return covers && fresh && existing.checkIssued(new X509Certificate(caPem)) ? { ca: caPem, cert: certPem, key: keyPem } : undefined;
}

/**
 * Issues (or keeps) `<outDir>/<name>.crt` + `.key` for `hostnames`, signed by the CA in
 * `caDir`, and puts the CA certificate beside them as `<outDir>/ca.crt`.
 */
export async function issueServerCertificate(caDir: string, outDir: string, name: string, hostnames: readonly string[]): Promise<TlsFiles> {
  const outside = hostnames.filter((host) => !withinLabNames(host));
  if (outside.length > 0) throw new Error(`the lab CA signs only ${[...LAB_CA_PERMITTED.dns, ...LAB_CA_PERMITTED.ip].join(', ')}: not ${outside.join(', ')} (${name})`);
  const ca = await ensureLabCa(caDir);
  await mkdir(outDir, { recursive: true });
  if ((await readIfExists(join(outDir, 'ca.crt'))) !== ca.pem) await replaceFile(join(outDir, 'ca.crt'), ca.pem, 0o644);
  const kept = await usable(outDir, name, hostnames, ca.pem);
  if (kept) return kept;
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const names = hostnames.map((host) => (isIP(host) !== 0 ? { type: 'ip' as const, value: host } : { type: 'dns' as const, value: host }));
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
  await replaceFile(join(outDir, `${name}.key`), newKey, 0o600);
  await replaceFile(join(outDir, `${name}.crt`), newCert, 0o644);
  return { ca: ca.pem, cert: newCert, key: newKey };
}

/**
 * What an agent calls at start. When its directory holds a certificate (the lab issued
 * it), that certificate is used as it is and must name every host the agent answers to:
 * the agent never signs one for itself. An empty directory means an agent started on its
 * own (a test, one agent by hand): that directory becomes its private CA, and one that
 * holds its CA key re-issues as its names change. Neither lab mode gives an agent a CA key.
 */
export async function ensureServerCertificate(dir: string, name: string, hostnames: readonly string[]): Promise<TlsFiles> {
  const issued = await readIfExists(join(dir, `${name}.crt`));
  const ownCa = await readIfExists(join(dir, 'ca.key'));
  if (issued === undefined || ownCa !== undefined) return issueServerCertificate(dir, dir, name, hostnames);
  const ca = await readIfExists(join(dir, 'ca.crt'));
  const files = ca === undefined ? undefined : await usable(dir, name, hostnames, ca);
  if (!files) {
    throw new Error(
      `the certificate ${join(dir, `${name}.crt`)} does not name all of ${hostnames.join(', ')}, is not from ${join(dir, 'ca.crt')} or expires within a day: ` +
        'the lab issues certificates at start (scripts/lab-certs.ts); restart the lab, or fix the agent\'s *_TLS_NAMES',
    );
  }
  return files;
}

/** The lab CA certificate, for clients that must trust the lab's servers. */
export async function readLabCa(dir: string): Promise<string> {
  return readFile(join(dir, 'ca.crt'), 'utf8');
}
