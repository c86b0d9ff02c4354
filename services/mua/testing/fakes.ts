/** In-memory stand-ins for the MUA's IMAP and submission boundaries (gateway.ts). */
import { EventEmitter } from 'node:events';
import {
  AuthFailure,
  type Credentials,
  type Envelope,
  type FolderInfo,
  type ImapGateway,
  type MailStore,
  type MessagePage,
  type SpecialUse,
  type StoreEvent,
  type Submitter,
} from '../gateway.ts';
import type { Endpoint } from '../discovery.ts';

interface Stored {
  uid: number;
  raw: Buffer;
  flags: Set<string>;
}

export class FakeStore implements MailStore {
  readonly folders = new Map<string, Stored[]>([['INBOX', []], ['Sent', []], ['Trash', []]]);
  readonly events = new EventEmitter();
  closed = false;
  private nextUid = 1;

  deliver(folder: string, raw: string): void {
    this.folders.get(folder)?.push({ uid: this.nextUid++, raw: Buffer.from(raw), flags: new Set() });
    this.events.emit('event', { type: 'new', folder, count: this.folders.get(folder)?.length ?? 0 } satisfies StoreEvent);
  }

  alive(): boolean {
    return !this.closed;
  }

  async listFolders(): Promise<FolderInfo[]> {
    return [...this.folders.entries()].map(([path, list]) => ({
      path,
      name: path === 'INBOX' ? 'Inbox' : path,
      specialUse: path.toLowerCase() as SpecialUse,
      total: list.length,
      unread: list.filter((item) => !item.flags.has('\\Seen')).length,
    }));
  }

  async listMessages(folder: string): Promise<MessagePage> {
    const list = this.folders.get(folder) ?? [];
    const messages = list.map((item) => ({
      uid: item.uid, from: [], to: [], subject: '', date: '', size: item.raw.length, flags: [...item.flags], hasAttachments: false,
    }));
    return { folder, page: 1, pageSize: 25, total: list.length, messages };
  }

  async fetchSource(folder: string, uid: number): Promise<Buffer | undefined> {
    return this.folders.get(folder)?.find((item) => item.uid === uid)?.raw;
  }

  async setFlag(folder: string, uid: number, flag: string, on: boolean): Promise<void> {
    const item = this.folders.get(folder)?.find((entry) => entry.uid === uid);
    if (on) item?.flags.add(flag);
    else item?.flags.delete(flag);
  }

  async move(folder: string, uid: number, target: string): Promise<void> {
    const list = this.folders.get(folder) ?? [];
    const index = list.findIndex((item) => item.uid === uid);
    const [item] = list.splice(index, 1);
    if (item) this.folders.get(target)?.push(item);
  }

  async trash(folder: string, uid: number): Promise<void> {
    await this.move(folder, uid, 'Trash');
  }

  async appendTo(use: SpecialUse, raw: Buffer, flags: string[]): Promise<string> {
    const path = use === 'sent' ? 'Sent' : 'INBOX';
    this.folders.get(path)?.push({ uid: this.nextUid++, raw, flags: new Set(flags) });
    return path;
  }

  onEvent(listener: (event: StoreEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export class FakeGateway implements ImapGateway {
  readonly stores = new Map<string, FakeStore>();
  opened: { endpoint: Endpoint; credentials: Credentials }[] = [];

  async open(endpoint: Endpoint, credentials: Credentials): Promise<MailStore> {
    this.opened.push({ endpoint, credentials });
    if (credentials.password !== 'secret') throw new AuthFailure('login refused');
    const store = new FakeStore();
    this.stores.set(credentials.user, store);
    return store;
  }
}

export class FakeSubmitter implements Submitter {
  sent: { endpoint: Endpoint; envelope: Envelope; raw: Buffer; clientName: string }[] = [];
  refuse: Error | undefined;

  async send(endpoint: Endpoint, _credentials: Credentials, envelope: Envelope, raw: Buffer, clientName: string) {
    if (this.refuse) throw this.refuse;
    this.sent.push({ endpoint, envelope, raw, clientName });
    return { response: '250 2.0.0 queued' };
  }
}
