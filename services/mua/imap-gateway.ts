/**
 * The real mail store: one imapflow connection per web session, STARTTLS required, the
 * lab CA trusted. INBOX stays selected between requests so that imapflow's IDLE reports
 * new mail, which the store passes on as events (→ Server-Sent Events).
 */
import { EventEmitter } from 'node:events';
import { ImapFlow, type FetchMessageObject, type MessageStructureObject } from 'imapflow';
import type { Logger } from '../../shared/log.ts';
import type { Endpoint } from './discovery.ts';
import {
  AuthFailure,
  type AddressView,
  type Credentials,
  type FolderInfo,
  type ImapGateway,
  type ListOptions,
  type MailStore,
  type MessagePage,
  type MessageSummary,
  type SpecialUse,
  type StoreEvent,
} from './gateway.ts';
import { clientTls } from './tls-trust.ts';

/** Start IDLE soon after each command so new mail shows within a second (RFC 2177). */
const AUTO_IDLE_DELAY_MS = 300;
const CONNECT_TIMEOUT_MS = 10_000;
const SOCKET_TIMEOUT_MS = 10 * 60_000;

const SPECIAL_USE: Record<string, SpecialUse> = {
  '\\Inbox': 'inbox',
  '\\Sent': 'sent',
  '\\Drafts': 'drafts',
  '\\Trash': 'trash',
  '\\Junk': 'junk',
};
const DEFAULT_NAMES: Record<SpecialUse, string> = { inbox: 'INBOX', sent: 'Sent', drafts: 'Drafts', trash: 'Trash', junk: 'Junk' };

function addresses(list: { name?: string; address?: string }[] | undefined): AddressView[] {
  return (list ?? []).map((item) => ({ name: item.name ?? '', address: item.address ?? '' }));
}

/** True when a body part is an attachment (by disposition, or a named non-text leaf). */
export function hasAttachment(node: MessageStructureObject | undefined): boolean {
  if (!node) return false;
  if (node.childNodes?.length) return node.childNodes.some((child) => hasAttachment(child));
  if (node.disposition === 'attachment') return true;
  const named = node.dispositionParameters?.filename ?? node.parameters?.name;
  return named !== undefined && !node.type.startsWith('text/') && node.disposition !== 'inline';
}

function summary(message: FetchMessageObject): MessageSummary {
  const date = message.envelope?.date ?? message.internalDate;
  return {
    uid: message.uid,
    from: addresses(message.envelope?.from),
    to: addresses(message.envelope?.to),
    subject: message.envelope?.subject ?? '',
    date: date ? new Date(date).toISOString() : '',
    size: message.size ?? 0,
    flags: [...(message.flags ?? [])],
    hasAttachments: hasAttachment(message.bodyStructure),
  };
}

class ImapStore implements MailStore {
  private readonly events = new EventEmitter();
  private readonly client: ImapFlow;
  private readonly log: Logger;
  private folderCache: FolderInfo[] = [];

  constructor(client: ImapFlow, log: Logger) {
    this.client = client;
    this.log = log;
    client.on('exists', (data) => {
      const event: StoreEvent =
        data.count > data.prevCount ? { type: 'new', folder: data.path, count: data.count } : { type: 'changed', folder: data.path };
      this.events.emit('event', event);
    });
    client.on('expunge', (data) => this.events.emit('event', { type: 'changed', folder: data.path } satisfies StoreEvent));
    client.on('flags', (data) => this.events.emit('event', { type: 'changed', folder: data.path } satisfies StoreEvent));
  }

  private async inFolder<T>(path: string, work: () => Promise<T>): Promise<T> {
    if (!this.client.usable) throw new Error('the IMAP connection is closed');
    const lock = await this.client.getMailboxLock(path);
    try {
      return await work();
    } finally {
      lock.release();
      if (path !== 'INBOX') await this.watchInbox();
    }
  }

  /** Selects INBOX again so that IDLE watches it. */
  private async watchInbox(): Promise<void> {
    try {
      const lock = await this.client.getMailboxLock('INBOX');
      lock.release();
    } catch (error) {
      this.log.warn({ err: error }, 'could not select INBOX again');
    }
  }

  alive(): boolean {
    return this.client.usable;
  }

  async listFolders(): Promise<FolderInfo[]> {
    const list = await this.client.list({ statusQuery: { messages: true, unseen: true } });
    this.folderCache = list
      .filter((entry) => !entry.flags.has('\\Noselect'))
      .map((entry) => {
        const use = entry.path.toUpperCase() === 'INBOX' ? 'inbox' : entry.specialUse ? SPECIAL_USE[entry.specialUse] : undefined;
        return {
          path: entry.path,
          name: entry.path.toUpperCase() === 'INBOX' ? 'Inbox' : entry.name,
          ...(use ? { specialUse: use } : {}),
          total: entry.status?.messages ?? 0,
          unread: entry.status?.unseen ?? 0,
        };
      });
    return this.folderCache;
  }

  async listMessages(folder: string, options: ListOptions): Promise<MessagePage> {
    return this.inFolder(folder, async () => {
      const exists = this.client.mailbox ? this.client.mailbox.exists : 0;
      const query = { uid: true, flags: true, envelope: true, size: true, bodyStructure: true, internalDate: true } as const;
      let total: number;
      let fetched: FetchMessageObject[] = [];
      if (options.query) {
        const text = options.query;
        const found = await this.client.search({ or: [{ subject: text }, { from: text }, { to: text }, { body: text }] }, { uid: true });
        const uids = (found || []).sort((a, b) => b - a);
        total = uids.length;
        const slice = uids.slice((options.page - 1) * options.pageSize, options.page * options.pageSize);
        if (slice.length > 0) fetched = await this.client.fetchAll(slice.join(','), query, { uid: true });
      } else {
        total = exists;
        const last = exists - (options.page - 1) * options.pageSize;
        const first = Math.max(1, last - options.pageSize + 1);
        if (last >= 1) fetched = await this.client.fetchAll(`${first}:${last}`, query);
      }
      const messages = fetched.sort((a, b) => b.uid - a.uid).map(summary);
      return { folder, page: options.page, pageSize: options.pageSize, total, messages };
    });
  }

  async fetchSource(folder: string, uid: number): Promise<Buffer | undefined> {
    return this.inFolder(folder, async () => {
      const message = await this.client.fetchOne(String(uid), { uid: true, source: true }, { uid: true });
      return message ? message.source : undefined;
    });
  }

  async setFlag(folder: string, uid: number, flag: string, on: boolean): Promise<void> {
    await this.inFolder(folder, async () => {
      if (on) await this.client.messageFlagsAdd(String(uid), [flag], { uid: true });
      else await this.client.messageFlagsRemove(String(uid), [flag], { uid: true });
    });
  }

  async move(folder: string, uid: number, target: string): Promise<void> {
    await this.inFolder(folder, async () => {
      const result = await this.client.messageMove(String(uid), target, { uid: true });
      if (result === false) throw new Error(`could not move message ${uid} to ${target}`);
    });
  }

  private async folderFor(use: SpecialUse): Promise<string> {
    const folders = this.folderCache.length > 0 ? this.folderCache : await this.listFolders();
    const found =
      folders.find((folder) => folder.specialUse === use) ??
      folders.find((folder) => folder.name.toLowerCase() === DEFAULT_NAMES[use].toLowerCase());
    if (found) return found.path;
    const created = await this.client.mailboxCreate(DEFAULT_NAMES[use]);
    this.folderCache = [];
    return created.path;
  }

  async trash(folder: string, uid: number): Promise<void> {
    const trash = await this.folderFor('trash');
    if (trash === folder) {
      await this.inFolder(folder, async () => {
        await this.client.messageDelete(String(uid), { uid: true });
      });
      return;
    }
    await this.move(folder, uid, trash);
  }

  async appendTo(use: SpecialUse, raw: Buffer, flags: string[]): Promise<string> {
    const path = await this.folderFor(use);
    const result = await this.client.append(path, raw, flags);
    if (result === false) throw new Error(`could not append to ${path}`);
    return path;
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async close(): Promise<void> {
    this.events.removeAllListeners();
    try {
      await this.client.logout();
    } catch {
      this.client.close();
    }
  }
}

export function imapflowGateway(ca: () => Promise<string>, log: Logger): ImapGateway {
  return {
    async open(endpoint: Endpoint, credentials: Credentials): Promise<MailStore> {
      const tls = clientTls(await ca(), endpoint);
      const client = new ImapFlow({
        host: endpoint.host,
        port: endpoint.port,
        secure: false,
        doSTARTTLS: true,
        ...(tls.servername ? { servername: tls.servername } : {}),
        tls,
        auth: { user: credentials.user, pass: credentials.password },
        // Dovecot's convention; the MRA believes it from MRA_TRUSTED_NETWORKS only.
        ...(credentials.client ? { clientInfo: { 'x-originating-ip': credentials.client } } : {}),
        logger: false,
        autoIdleDelay: AUTO_IDLE_DELAY_MS,
        connectionTimeout: CONNECT_TIMEOUT_MS,
        greetingTimeout: CONNECT_TIMEOUT_MS,
        socketTimeout: SOCKET_TIMEOUT_MS,
        disableCompression: true,
      });
      client.on('error', (error) => log.warn({ err: error, user: credentials.user }, 'imap connection error'));
      try {
        await client.connect();
      } catch (error) {
        client.close();
        if ((error as { authenticationFailed?: boolean }).authenticationFailed) throw new AuthFailure('login refused');
        throw error;
      }
      const store = new ImapStore(client, log.child({ user: credentials.user }));
      await client.mailboxOpen('INBOX');
      return store;
    },
  };
}
