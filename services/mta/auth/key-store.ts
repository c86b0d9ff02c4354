/**
 * The MTA's DKIM keys and which of them it signs with, per domain, changeable while it
 * runs so a key can be rotated the way an operator does it (RFC 6376 §3.1, M3AAWG's
 * rotation practice): make a key under a new selector, publish its public half at
 * `<selector>._domainkey.<domain>`, switch signing to it once the DNS serves it, and keep
 * the old record published until nothing signed with the old key can still be checked.
 *
 * Shipped keys come from MTA_DKIM_KEYS_DIR (read-only); keys made here and the choice of
 * selectors live in the state directory on the MTA's own volume (`<domain>/<selector>.pem`,
 * mode 0600, and `signing.json`), so a restart keeps a rotation. A key's PEM never leaves
 * this module but to mailauth, and is never logged nor served: only its public half is.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdir, readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeNewFile } from '../../../shared/files.ts';
import { loadSigningKeys, signingKeyFrom, type DkimAlgorithm, type SigningKey } from './keys.ts';

/** RFC 6376 §3.1: a selector is one or more DNS labels; ours stay simple. */
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/u;
/** RSA size of keys made here (RFC 8301 §3.2: at least 1024; 2048 is the common choice). */
export const GENERATED_RSA_BITS = 2048;
const SIGNING_FILE = 'signing.json';

export type KeySource = 'shipped' | 'generated';

export interface KeyView {
  selector: string;
  algorithm: DkimAlgorithm;
  source: KeySource;
  /** Where the public half must be published. */
  dnsName: string;
  /** The TXT record's value (RFC 6376 §3.6.1; Ed25519 as RFC 8463 §4.2). */
  record: string;
  /** The same as a zone-file line, in strings of at most 255 characters (RFC 1035 §3.3.14). */
  zoneLine: string;
}

export interface DomainView {
  domain: string;
  signing: string[];
  keys: KeyView[];
}

export type KeyStoreResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string };

/** TXT answers (`dns.promises.resolveTxt` shape) from the lab DNS, uncached. */
export type TxtLookup = (name: string) => Promise<string[][]>;

const signingSchema = z.record(z.string(), z.array(z.string().regex(SELECTOR)).min(1));

/** The `p=` of a key's TXT record: SPKI DER for RSA, the raw 32-byte key for Ed25519. */
export function publicKeyData(key: SigningKey): string {
  const der = createPublicKey(createPrivateKey(key.privateKey)).export({ type: 'spki', format: 'der' });
  return (key.algorithm === 'ed25519-sha256' ? der.subarray(der.length - 32) : der).toString('base64');
}

export function recordOf(key: SigningKey): string {
  return `v=DKIM1; k=${key.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa'}; p=${publicKeyData(key)}`;
}

/** One TXT character-string holds at most 255 bytes; a longer record is several, joined by the verifier. */
const TXT_STRING_MAX = 255;

function viewOf(key: SigningKey, source: KeySource): KeyView {
  const record = recordOf(key);
  const strings: string[] = [];
  for (let at = 0; at < record.length; at += TXT_STRING_MAX) strings.push(`"${record.slice(at, at + TXT_STRING_MAX)}"`);
  return {
    selector: key.selector,
    algorithm: key.algorithm,
    source,
    dnsName: `${key.selector}._domainkey.${key.domain}`,
    record,
    zoneLine: `${key.selector}._domainkey IN TXT ( ${strings.join(' ')} )`,
  };
}

/** The `p=` of a published DKIM record, its strings joined (RFC 6376 §3.6.2.2), spaces dropped. */
function publishedKey(strings: string[]): string | undefined {
  const text = strings.join('');
  const tag = text.split(';').map((part) => part.trim()).find((part) => part.startsWith('p='));
  return tag?.slice(2).replace(/\s+/gu, '');
}

export class DkimKeyStore {
  private readonly keys = new Map<string, Map<string, { key: SigningKey; source: KeySource }>>();
  private readonly signing = new Map<string, string[]>();

  private readonly stateDir: string;
  private readonly lookup: TxtLookup;

  private constructor(stateDir: string, lookup: TxtLookup) {
    this.stateDir = stateDir;
    this.lookup = lookup;
  }

  /**
   * Loads the shipped keys of `selectors` and every key made here for `domains`; signs with
   * `selectors` (those that have a key) unless signing.json chose otherwise.
   */
  static async open(options: { shippedDir: string; stateDir: string; domains: readonly string[]; selectors: readonly string[]; lookup: TxtLookup }): Promise<DkimKeyStore> {
    const store = new DkimKeyStore(options.stateDir, options.lookup);
    const domains = options.domains.map((domain) => domain.toLowerCase());
    const shipped = await loadSigningKeys(options.shippedDir, domains, options.selectors);
    for (const domain of domains) {
      const own = new Map<string, { key: SigningKey; source: KeySource }>();
      for (const key of shipped.get(domain) ?? []) own.set(key.selector, { key, source: 'shipped' });
      const dir = join(options.stateDir, domain);
      const files = await readdir(dir).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
      for (const file of files.filter((name) => name.endsWith('.pem')).sort()) {
        const selector = file.slice(0, -'.pem'.length);
        if (!SELECTOR.test(selector) || own.has(selector)) continue;
        own.set(selector, { key: signingKeyFrom(domain, selector, await readFile(join(dir, file), 'utf8'), join(dir, file)), source: 'generated' });
      }
      store.keys.set(domain, own);
      const signing = options.selectors.filter((selector) => own.has(selector));
      if (signing.length > 0) store.signing.set(domain, signing);
    }
    const chosen = await readFile(join(options.stateDir, SIGNING_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
    if (chosen !== undefined) {
      const parsed = signingSchema.safeParse(JSON.parse(chosen));
      if (!parsed.success) throw new Error(`${join(options.stateDir, SIGNING_FILE)}: not a {domain: [selector, …]} object`);
      for (const [domain, selectors] of Object.entries(parsed.data)) {
        const own = store.keys.get(domain);
        if (own && selectors.every((selector) => own.has(selector))) store.signing.set(domain, selectors);
      }
    }
    return store;
  }

  /** The keys to sign `domain`'s mail with now, in order. */
  signingKeys(domain: string): SigningKey[] {
    const own = this.keys.get(domain.toLowerCase());
    return (this.signing.get(domain.toLowerCase()) ?? []).flatMap((selector) => {
      const entry = own?.get(selector);
      return entry ? [entry.key] : [];
    });
  }

  /** Every domain's keys, public halves only, and the selectors it signs with. */
  list(): DomainView[] {
    return [...this.keys.entries()].map(([domain, own]) => ({
      domain,
      signing: this.signing.get(domain) ?? [],
      keys: [...own.values()].map(({ key, source }) => viewOf(key, source)),
    }));
  }

  /** Makes a new key (RSA 2048 or Ed25519) under a new selector, on the MTA's volume. */
  async generate(domain: string, selector: string, algorithm: DkimAlgorithm = 'rsa-sha256'): Promise<KeyStoreResult<KeyView>> {
    const own = this.keys.get(domain.toLowerCase());
    if (!own) return { ok: false, status: 400, error: `this MTA signs no mail for ${domain}` };
    if (!SELECTOR.test(selector)) return { ok: false, status: 400, error: 'selector: lower-case letters, digits and dashes (one DNS label)' };
    if (own.has(selector)) return { ok: false, status: 409, error: `${selector}._domainkey.${domain} has a key already; a new key takes a new selector` };
    const { privateKey } = algorithm === 'ed25519-sha256'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('rsa', { modulusLength: GENERATED_RSA_BITS });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const dir = join(this.stateDir, domain.toLowerCase());
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const path = join(dir, `${selector}.pem`);
    try {
      await writeNewFile(path, pem, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return { ok: false, status: 409, error: `${path} exists already` };
      throw error;
    }
    const key = signingKeyFrom(domain.toLowerCase(), selector, pem, path);
    own.set(selector, { key, source: 'generated' });
    return { ok: true, value: viewOf(key, 'generated') };
  }

  /**
   * Signs `domain`'s mail with `selectors` from now on; refused unless the lab DNS serves
   * each one's public key as this MTA holds it, since mail signed with an unpublished key
   * fails DKIM everywhere.
   */
  async use(domain: string, selectors: readonly string[]): Promise<KeyStoreResult<DomainView>> {
    const name = domain.toLowerCase();
    const own = this.keys.get(name);
    if (!own) return { ok: false, status: 400, error: `this MTA signs no mail for ${domain}` };
    if (selectors.length === 0) return { ok: false, status: 400, error: 'selectors: at least one' };
    for (const selector of selectors) {
      const entry = own.get(selector);
      if (!entry) return { ok: false, status: 400, error: `no key ${selector} for ${domain}: make it first (POST /dkim/keys)` };
      const dnsName = `${selector}._domainkey.${name}`;
      let published: string[];
      try {
        published = (await this.lookup(dnsName)).map((strings) => publishedKey(strings) ?? '');
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        return { ok: false, status: 409, error: `${dnsName} is not published yet (${code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such TXT record' : code}): publish "${recordOf(entry.key)}" first` };
      }
      if (!published.includes(publicKeyData(entry.key))) {
        return { ok: false, status: 409, error: `${dnsName} publishes another key than this MTA's ${selector}: publish "${recordOf(entry.key)}" first` };
      }
    }
    this.signing.set(name, [...selectors]);
    await this.save();
    const view = this.list().find((item) => item.domain === name);
    return view ? { ok: true, value: view } : { ok: false, status: 500, error: 'lost the domain' };
  }

  private async save(): Promise<void> {
    await mkdir(this.stateDir, { recursive: true, mode: 0o700 });
    const path = join(this.stateDir, SIGNING_FILE);
    const temporary = `${path}.${process.pid}.tmp`;
    await writeNewFile(temporary, `${JSON.stringify(Object.fromEntries(this.signing), null, 2)}\n`, 0o600);
    await rename(temporary, path);
  }
}
