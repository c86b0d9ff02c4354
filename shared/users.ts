/**
 * The user directory of a domain: one JSON file per domain in a folder,
 * `<dir>/<domain>.json` = { domain, users: { local: { password: "scrypt$…" } }, aliases: { local: target } }.
 * No plain-text password is ever stored. The files are re-read when they change, so
 * `npm run users -- add` takes effect without a restart.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { parseAddress } from './address.ts';
import { createFileOnce, replaceFile } from './files.ts';
import { LAB_DEFAULT_PASSWORD, LAB_USERS, type LabDomain } from './lab.ts';
import { DEFAULT_PARAMS, dummyHash, hashPassword, paramsOf, verifyPassword, type ScryptParams } from './passwords.ts';

const domainFileSchema = z.object({
  domain: z.string(),
  users: z.record(z.string(), z.object({ password: z.string().startsWith('scrypt$') })),
  aliases: z.record(z.string(), z.string()).default({}),
});
export type DomainFile = z.infer<typeof domainFileSchema>;

export interface Account {
  /** Canonical address of the user (`local@domain`), the mailbox owner. */
  address: string;
  local: string;
  domain: string;
}

/**
 * The hash checked when the user is unknown, so that timing tells nothing (issue 19,
 * item 10): it costs what the domain's own users' hashes cost (the first one's
 * parameters), or the default cost for a domain we do not have.
 */
export function dummyHashFor(file: DomainFile | undefined): string {
  const first = file ? Object.values(file.users)[0] : undefined;
  return dummyHash((first && paramsOf(first.password)) || DEFAULT_PARAMS);
}

/** Own keys only: `constructor` or `__proto__` is not a user because a plain object has it. */
function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** A changed user file (npm run users) is seen within this time. */
const RECHECK_INTERVAL_MS = 1_000;

/** Like Dovecot's auth_cache: a successful login is remembered (as a digest) for a while. */
const AUTH_CACHE_TTL_MS = 5 * 60_000;
const AUTH_CACHE_MAX = 10_000;

export class UserDirectory {
  private readonly cache = new Map<string, { mtimeMs: number; checkedAt: number; file: DomainFile }>();
  private readonly verified = new Map<string, number>();

  private readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  private async domainFile(domain: string): Promise<DomainFile | undefined> {
    const path = join(this.dir, `${domain}.json`);
    const now = Date.now();
    const known = this.cache.get(domain);
    // Every RCPT, LHLO recipient and login asks; the file is looked at again at most once per interval.
    if (known && now - known.checkedAt < RECHECK_INTERVAL_MS) return known.file;
    let mtimeMs: number;
    try {
      mtimeMs = (await stat(path)).mtimeMs;
    } catch {
      return undefined;
    }
    if (known && known.mtimeMs === mtimeMs) {
      known.checkedAt = now;
      return known.file;
    }
    const file = domainFileSchema.parse(JSON.parse(await readFile(path, 'utf8')));
    this.cache.set(domain, { mtimeMs, checkedAt: now, file });
    return file;
  }

  /** Resolves an address (user or alias) to its account; undefined when nobody has it. */
  async resolve(address: string): Promise<Account | undefined> {
    const parsed = parseAddress(address);
    if (!parsed.ok) return undefined;
    const { domain } = parsed.address;
    const file = await this.domainFile(domain);
    if (!file) return undefined;
    let local = parsed.address.local.toLowerCase();
    for (let hops = 0; hops < 5 && !Object.hasOwn(file.users, local); hops += 1) {
      const target = own(file.aliases, local);
      if (target === undefined) return undefined;
      local = target.toLowerCase();
    }
    if (!Object.hasOwn(file.users, local)) return undefined;
    return { address: `${local}@${domain}`, local, domain };
  }

  /** Every address that delivers to this account: its own and its aliases. */
  async addressesOf(account: Account): Promise<string[]> {
    const file = await this.domainFile(account.domain);
    if (!file) return [];
    const aliases = Object.entries(file.aliases)
      .filter(([, target]) => target.toLowerCase() === account.local)
      .map(([alias]) => `${alias.toLowerCase()}@${account.domain}`);
    return [account.address, ...aliases];
  }

  /** Checks a login (user name is the full address, or an alias of it). */
  async authenticate(username: string, password: string): Promise<Account | undefined> {
    const account = await this.resolve(username);
    const parsed = parseAddress(username);
    const file = account ? await this.domainFile(account.domain) : parsed.ok ? await this.domainFile(parsed.address.domain) : undefined;
    const hash = account && file ? own(file.users, account.local)?.password : undefined;
    const digest = createHash('sha256').update(`${username}\0${password}\0${hash ?? ''}`).digest('base64');
    const until = this.verified.get(digest);
    if (account && hash !== undefined && until !== undefined && until > Date.now()) return account;
    const ok = await verifyPassword(password, hash ?? dummyHashFor(file));
    if (!ok || hash === undefined) return undefined;
    if (this.verified.size >= AUTH_CACHE_MAX) this.verified.clear();
    this.verified.set(digest, Date.now() + AUTH_CACHE_TTL_MS);
    return account;
  }

  async hasDomain(domain: string): Promise<boolean> {
    return (await this.domainFile(domain.toLowerCase())) !== undefined;
  }
}

export async function readDomainFile(dir: string, domain: string): Promise<DomainFile | undefined> {
  try {
    return domainFileSchema.parse(JSON.parse(await readFile(join(dir, `${domain}.json`), 'utf8')));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writeDomainFile(dir: string, file: DomainFile): Promise<void> {
  await mkdir(dir, { recursive: true });
  await replaceFile(join(dir, `${file.domain}.json`), `${JSON.stringify(file, null, 2)}\n`, 0o640);
}

/**
 * Creates the lab's user files at first start (DESIGN.md: alice, bob, carol; postmaster
 * is an alias of each domain's first user) unless they exist. Safe when several agents
 * start at once: the first writer wins, the others keep its file.
 */
export async function ensureLabUsers(
  dir: string,
  password: string = process.env.MXLAB_PASSWORD ?? LAB_DEFAULT_PASSWORD,
  params: ScryptParams = DEFAULT_PARAMS,
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [domain, locals] of Object.entries(LAB_USERS) as [LabDomain, readonly string[]][]) {
    if (await readDomainFile(dir, domain)) continue;
    const users: DomainFile['users'] = {};
    for (const local of locals) users[local] = { password: await hashPassword(password, params) };
    const file: DomainFile = { domain, users, aliases: { postmaster: locals[0] ?? '' } };
    await createFileOnce(join(dir, `${domain}.json`), `${JSON.stringify(file, null, 2)}\n`, 0o640);
  }
}
