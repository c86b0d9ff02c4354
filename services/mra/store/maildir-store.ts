/**
 * The Maildir++ store: `<mailRoot>/<domain>/<local>/` is a user's root (INBOX), folders
 * are `.Name` directories beside `cur/ new/ tmp/`, each with a `maildirfolder` file.
 * Open folders are shared by every session of the process (one index, one watcher).
 */
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../../shared/log.ts';
import { ensureMaildirAt, isMaildir, makeMaildir, pathExists as fileExists } from '../../../shared/maildir/layout.ts';
import { writeFileAtomic } from './index-file.ts';
import { MaildirFolder } from './maildir-folder.ts';
import { toCrlf } from './folder-files.ts';
import { checkMailboxName, folderPath, nameFromEntry, specialUseOf, STANDARD_FOLDERS } from './mailbox-names.ts';
import { MailStoreError, type MailboxInfo, type MailboxStatus, type MailStore, type UserMailStore } from './types.ts';

export const SUBSCRIPTIONS_FILE = 'subscriptions';

interface OpenFolder {
  folder: Promise<MaildirFolder>;
  users: number;
  linger: NodeJS.Timeout | undefined;
}

/** A folder no session uses stays loaded this long, so reconnecting clients open it at once. */
export const FOLDER_LINGER_MS = 60_000;

/** Refuses account parts that could leave the mail root (they were parsed already; this is the last guard). */
function safeSegment(value: string): string {
  if (value === '' || value === '.' || value === '..' || /[/\\\u0000-\u001f\u007f]/u.test(value) || value.startsWith('.')) {
    throw new MailStoreError('CANNOT', 'invalid account name');
  }
  return value;
}

export class MaildirStore implements MailStore {
  private readonly open = new Map<string, OpenFolder>();
  private readonly mailRoot: string;
  private readonly logger: Logger;

  constructor(mailRoot: string, logger: Logger) {
    this.mailRoot = mailRoot;
    this.logger = logger;
  }

  async forUser(account: { local: string; domain: string; address: string }): Promise<UserMailStore> {
    const root = join(this.mailRoot, safeSegment(account.domain), safeSegment(account.local));
    await ensureMaildirAt(root);
    if (!(await fileExists(join(root, SUBSCRIPTIONS_FILE)))) {
      await writeFileAtomic(join(root, SUBSCRIPTIONS_FILE), ['INBOX', ...STANDARD_FOLDERS.map(([name]) => name)].join('\n') + '\n');
    }
    return new UserMaildir(this, root, account.address);
  }

  /**
   * Opens (or shares) the folder at `dir`; every call must be paired with `release()`.
   * The folder is in the open map before the first await: sessions that open a folder at
   * the same moment (ten clients SELECTing a new INBOX) share one load, so one UIDVALIDITY,
   * one index and one watcher, never one each.
   */
  async acquire(dir: string, name: string): Promise<MaildirFolder> {
    const current = this.open.get(dir);
    if (current) {
      current.users += 1;
      clearTimeout(current.linger);
      current.linger = undefined;
      const folder = await current.folder;
      await folder.sync();
      return folder;
    }
    const entry: OpenFolder = { users: 1, linger: undefined, folder: this.load(dir, name) };
    this.open.set(dir, entry);
    try {
      return await entry.folder;
    } catch (error) {
      if (this.open.get(dir) === entry) this.open.delete(dir);
      throw error;
    }
  }

  private async load(dir: string, name: string): Promise<MaildirFolder> {
    if (!(await isMaildir(dir))) throw new MailStoreError('NONEXISTENT', `no mailbox ${name}`);
    const folder = await MaildirFolder.load(dir, name, {
      onRelease: (loaded) => this.release(loaded),
      onError: (error) => this.logger.warn({ err: error, dir }, 'maildir folder error'),
      copy: (from, uids, target) => this.copy(from, uids, target),
    });
    folder.startWatching();
    return folder;
  }

  private async release(folder: MaildirFolder): Promise<void> {
    const entry = this.open.get(folder.dir);
    // A folder detached by DELETE or RENAME: its path may belong to a new folder now.
    if (!entry || (await entry.folder) !== folder) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    await folder.flushIndex();
    entry.linger = setTimeout(() => {
      if (entry.users > 0 || this.open.get(folder.dir) !== entry) return;
      this.open.delete(folder.dir);
      folder.stopWatching().catch((error: unknown) => this.logger.warn({ err: error }, 'closing folder failed'));
    }, FOLDER_LINGER_MS);
    entry.linger.unref();
  }

  /**
   * Drops the folder at `dir` before its directory is renamed or removed. Sessions that
   * have it selected see its messages expunged (RFC 3501 allows DELETE and RENAME of a
   * mailbox another session has selected; Dovecot does the same).
   */
  async detach(dir: string): Promise<void> {
    const entry = this.open.get(dir);
    if (!entry) return;
    clearTimeout(entry.linger);
    this.open.delete(dir);
    const folder = await entry.folder;
    if (entry.users > 0) await folder.vanish();
    else await folder.stopWatching();
  }

  private async copy(from: MaildirFolder, uids: readonly number[], target: string): Promise<{ uidValidity: number; uids: number[] }> {
    const root = from.name === 'INBOX' ? from.dir : join(from.dir, '..');
    const check = checkMailboxName(target);
    if (!check.ok) throw new MailStoreError('CANNOT', check.reason);
    const dir = folderPath(root, check.name);
    if (!(await isMaildir(dir))) throw new MailStoreError('TRYCREATE', `no mailbox ${check.name}`);
    const destination = await this.acquire(dir, check.name);
    try {
      const sources = [];
      for (const uid of uids) {
        const source = await from.sourceOf(uid);
        if (source) sources.push({ source: source.path, flags: source.record.flags, internalDate: new Date(source.record.internalDateMs), size: source.record.size ?? 0 });
      }
      return { uidValidity: destination.uidValidity, uids: await destination.add(sources) };
    } finally {
      await destination.release();
    }
  }

  async close(): Promise<void> {
    const folders = [...this.open.values()];
    this.open.clear();
    for (const entry of folders) {
      clearTimeout(entry.linger);
      await (await entry.folder).stopWatching();
    }
  }
}

class UserMaildir implements UserMailStore {
  readonly owner: string;
  private readonly store: MaildirStore;
  private readonly root: string;

  constructor(store: MaildirStore, root: string, owner: string) {
    this.store = store;
    this.root = root;
    this.owner = owner;
  }

  private resolve(raw: string): { name: string; dir: string } {
    const check = checkMailboxName(raw);
    if (!check.ok) throw new MailStoreError('CANNOT', check.reason);
    return { name: check.name, dir: folderPath(this.root, check.name) };
  }

  private async folderNames(): Promise<string[]> {
    const names: string[] = [];
    for (const entry of await readdir(this.root, { withFileTypes: true })) {
      const name = entry.isDirectory() ? nameFromEntry(entry.name) : undefined;
      if (name !== undefined) names.push(name);
    }
    return names;
  }

  private async subscriptions(): Promise<Set<string>> {
    try {
      const text = await readFile(join(this.root, SUBSCRIPTIONS_FILE), 'utf8');
      return new Set(text.split('\n').filter((line) => line !== ''));
    } catch {
      return new Set();
    }
  }

  async list(): Promise<MailboxInfo[]> {
    const real = new Set(['INBOX', ...(await this.folderNames())]);
    const all = new Set(real);
    for (const name of real) {
      const parts = name.split('.');
      for (let i = 1; i < parts.length; i += 1) all.add(parts.slice(0, i).join('.'));
    }
    const subscribed = await this.subscriptions();
    const names = [...all].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : a > b ? 1 : 0));
    return names.map((name) => {
      const info: MailboxInfo = {
        name,
        hasChildren: [...all].some((other) => other.startsWith(`${name}.`)),
        noSelect: !real.has(name),
        subscribed: subscribed.has(name),
      };
      const special = specialUseOf(name);
      if (special) info.specialUse = special;
      return info;
    });
  }

  async create(raw: string): Promise<void> {
    const { name, dir } = this.resolve(raw.endsWith('.') ? raw.slice(0, -1) : raw);
    if (name === 'INBOX' || (await isMaildir(dir))) throw new MailStoreError('ALREADYEXISTS', `mailbox ${name} exists`);
    await makeMaildir(dir, true);
  }

  async delete(raw: string): Promise<void> {
    const { name, dir } = this.resolve(raw);
    if (name === 'INBOX') throw new MailStoreError('CANNOT', 'INBOX cannot be deleted');
    if (!(await isMaildir(dir))) throw new MailStoreError('NONEXISTENT', `no mailbox ${name}`);
    await this.store.detach(dir);
    // Renamed away first, so the folder disappears at once even if removal takes a while.
    const trash = join(this.root, 'tmp', `deleted-${randomBytes(6).toString('hex')}`);
    await rename(dir, trash);
    await rm(trash, { recursive: true, force: true });
    // The subscription stays (RFC 3501 §6.3.6: never removed unilaterally); LSUB shows it \Noselect.
  }

  async rename(rawFrom: string, rawTo: string): Promise<void> {
    const from = this.resolve(rawFrom);
    const to = this.resolve(rawTo);
    if (to.name === 'INBOX' || (await fileExists(to.dir))) throw new MailStoreError('ALREADYEXISTS', `mailbox ${to.name} exists`);
    if (from.name === 'INBOX') {
      // RFC 3501 §6.3.5: renaming INBOX moves its messages to the new name and leaves INBOX empty.
      await this.create(to.name);
      const inbox = await this.open('INBOX');
      try {
        const uids = inbox.messages().map((message) => message.uid);
        if (uids.length > 0) {
          await inbox.copyTo(uids, to.name);
          await inbox.expunge(uids);
        }
      } finally {
        await inbox.release();
      }
      return;
    }
    if (!(await isMaildir(from.dir))) throw new MailStoreError('NONEXISTENT', `no mailbox ${from.name}`);
    if (to.name.startsWith(`${from.name}.`)) throw new MailStoreError('CANNOT', 'a mailbox cannot move under itself');
    const children = (await this.folderNames()).filter((name) => name.startsWith(`${from.name}.`));
    for (const name of [from.name, ...children]) {
      await this.store.detach(folderPath(this.root, name));
    }
    await rename(from.dir, to.dir);
    for (const child of children) {
      await rename(folderPath(this.root, child), folderPath(this.root, to.name + child.slice(from.name.length)));
    }
    const subscribed = await this.subscriptions();
    if (subscribed.delete(from.name)) {
      subscribed.add(to.name);
      await writeFileAtomic(join(this.root, SUBSCRIPTIONS_FILE), [...subscribed].join('\n') + '\n');
    }
  }

  async subscribed(): Promise<string[]> {
    return [...(await this.subscriptions())];
  }

  async subscribe(raw: string, on: boolean): Promise<void> {
    const { name } = this.resolve(raw);
    const subscribed = await this.subscriptions();
    if (on) subscribed.add(name);
    else subscribed.delete(name);
    await writeFileAtomic(join(this.root, SUBSCRIPTIONS_FILE), [...subscribed].join('\n') + (subscribed.size > 0 ? '\n' : ''));
  }

  async status(raw: string): Promise<MailboxStatus> {
    const folder = await this.open(raw);
    try {
      const messages = folder.messages();
      let unseen = 0;
      for (const message of messages) if (!message.flags.includes('\\Seen')) unseen += 1;
      const recent = folder.peekRecent().size;
      return { messages: messages.length, recent, uidNext: folder.uidNext(), uidValidity: folder.uidValidity, unseen, highestModseq: folder.highestModseq() };
    } finally {
      await folder.release();
    }
  }

  async open(raw: string): Promise<MaildirFolder> {
    const { name, dir } = this.resolve(raw);
    return this.store.acquire(dir, name);
  }

  async append(raw: string, message: Buffer, flags: readonly string[], internalDate = new Date()): Promise<{ uidValidity: number; uid: number }> {
    const { name, dir } = this.resolve(raw);
    // Stored with CRLF line ends, so RFC822.SIZE is the octet count FETCH BODY[] sends.
    message = toCrlf(message);
    if (!(await isMaildir(dir))) throw new MailStoreError('TRYCREATE', `no mailbox ${name}`);
    const folder = await this.store.acquire(dir, name);
    try {
      const [uid] = await folder.add([{ content: message, flags, internalDate, size: message.length }]);
      return { uidValidity: folder.uidValidity, uid: uid ?? 0 };
    } finally {
      await folder.release();
    }
  }
}
