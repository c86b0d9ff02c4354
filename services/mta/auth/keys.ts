/**
 * The MTA's DKIM signing keys, read once at start: `<dir>/<domain>/<selector>.pem`
 * (PKCS#8, RSA or Ed25519) for each signing domain and each configured selector that has
 * a file. The lab keys are shipped in services/mta/auth/keys (README.md there); their
 * public halves are the `<selector>._domainkey` TXT records in dns/zones. A key's PEM is
 * held only here and handed to mailauth; it is never logged (toJSON hides it).
 */
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface SigningKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  /** PEM; kept out of logs and JSON. */
  readonly privateKey: string;
}

/** RFC 8301 §3.2: RSA signing keys are at least 1024 bits; the lab's are 2048. */
export const MIN_RSA_BITS = 1024;

export class DkimKeyError extends Error {
  override readonly name = 'DkimKeyError';
}

/** A checked key from its PEM; `file` names it in errors, never its text. */
export function signingKeyFrom(domain: string, selector: string, pem: string, file: string): SigningKey {
  let algorithm: DkimAlgorithm;
  try {
    const key = createPrivateKey(pem);
    if (key.asymmetricKeyType === 'rsa') {
      const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) throw new DkimKeyError(`${file}: RSA key of ${bits} bits, at least ${MIN_RSA_BITS} needed (RFC 8301)`);
      algorithm = 'rsa-sha256';
    } else if (key.asymmetricKeyType === 'ed25519') {
      algorithm = 'ed25519-sha256';
    } else {
      throw new DkimKeyError(`${file}: a ${key.asymmetricKeyType ?? 'unknown'} key, expected RSA or Ed25519`);
    }
  } catch (error) {
    if (error instanceof DkimKeyError) throw error;
    // The crypto error names the file only, never the key's text.
    throw new DkimKeyError(`${file}: not a private key in PEM form`, { cause: error });
  }
  const key: SigningKey = { domain, selector, algorithm, privateKey: pem };
  Object.defineProperty(key, 'privateKey', { enumerable: false });
  Object.defineProperty(key, 'toJSON', { enumerable: false, value: () => ({ domain, selector, algorithm }) });
  return key;
}

/** Signing keys by domain (lower case), in selector order; a missing file is skipped, a bad one throws. */
export async function loadSigningKeys(dir: string, domains: readonly string[], selectors: readonly string[]): Promise<Map<string, SigningKey[]>> {
  const keys = new Map<string, SigningKey[]>();
  for (const domain of domains.map((name) => name.toLowerCase())) {
    const found: SigningKey[] = [];
    for (const selector of selectors) {
      const file = join(dir, domain, `${selector}.pem`);
      let pem: string;
      try {
        pem = await readFile(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw new DkimKeyError(`${file}: ${(error as Error).message}`, { cause: error });
      }
      found.push(signingKeyFrom(domain, selector, pem, file));
    }
    if (found.length > 0) keys.set(domain, found);
  }
  return keys;
}
