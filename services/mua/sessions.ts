/**
 * Web sessions kept on the server: each holds the user's IMAP connection (one per
 * session), the discovered servers, and the live-event listeners. A session ends on
 * logout, after IDLE_SESSION_MS without a request or an open event stream, or after
 * MAX_SESSION_MS; its IMAP connection is closed then.
 */
import type { EventEmitter } from 'node:events';
import type { Logger } from '../../shared/log.ts';
import type { MailServers } from './discovery.ts';
import type { Credentials, MailStore } from './gateway.ts';

export const IDLE_SESSION_MS = 30 * 60_000;
export const MAX_SESSION_MS = 12 * 60 * 60_000;
const SWEEP_INTERVAL_MS = 60_000;

export interface Session {
  id: string;
  address: string;
  domain: string;
  credentials: Credentials;
  servers: MailServers;
  store: MailStore;
  /** Re-emits the current store's events as 'event', across reconnections. */
  relay: EventEmitter;
  detach: () => void;
  createdAt: number;
  lastSeen: number;
  /** Open event streams; while one is open the session counts as in use. */
  streams: Set<{ end(): void }>;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  private readonly timer: NodeJS.Timeout;
  private readonly log: Logger;
  private readonly now: () => number;

  constructor(log: Logger, now: () => number = Date.now) {
    this.log = log;
    this.now = now;
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  add(session: Session): void {
    this.sessions.set(session.id, session);
  }

  /** The live session with this id, touched; undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined;
    const session = this.sessions.get(id);
    if (!session) return undefined;
    if (this.expired(session)) {
      void this.end(id, 'expired');
      return undefined;
    }
    session.lastSeen = this.now();
    return session;
  }

  private expired(session: Session): boolean {
    const now = this.now();
    if (now - session.createdAt > MAX_SESSION_MS) return true;
    return session.streams.size === 0 && now - session.lastSeen > IDLE_SESSION_MS;
  }

  async end(id: string, reason: string): Promise<void> {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    for (const stream of session.streams) stream.end();
    session.streams.clear();
    this.log.info({ session: id.slice(0, 8), user: session.address, reason }, 'session ended');
    session.detach();
    session.relay.removeAllListeners();
    try {
      await session.store.close();
    } catch (error) {
      this.log.warn({ err: error }, 'closing the IMAP connection failed');
    }
  }

  private async sweep(): Promise<void> {
    for (const session of [...this.sessions.values()]) {
      if (this.expired(session)) await this.end(session.id, 'expired');
    }
  }

  get size(): number {
    return this.sessions.size;
  }

  async closeAll(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.sessions.keys()].map((id) => this.end(id, 'shutdown')));
  }
}
