/**
 * Test helpers for the SMTP front end (imported by tests only): an in-memory Queue, a
 * temporary lab (users, TLS directory, config on port 0) and a raw SMTP client for
 * scripted dialogues and abuse cases.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ensureLabUsers } from '../../../shared/users.ts';
import { loadMtaConfig, type MtaConfig } from '../config.ts';
import type { EnqueueRequest, Queue } from '../queue/types.ts';
import { newQueueId } from '../queue/types.ts';

export class MemoryQueue implements Queue {
  readonly requests: (EnqueueRequest & { queueId: string })[] = [];
  failWith: Error | undefined;

  async enqueue(request: EnqueueRequest): Promise<{ queueId: string }> {
    if (this.failWith) throw this.failWith;
    const queueId = request.queueId ?? newQueueId();
    this.requests.push({ ...request, queueId });
    return { queueId };
  }
}

export interface TestLab {
  dir: string;
  usersDir: string;
  tlsDir: string;
  config(env?: Record<string, string>): MtaConfig;
  remove(): Promise<void>;
}

/** Users (password `secret`) and a TLS directory in a temporary folder. */
export async function createTestLab(): Promise<TestLab> {
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-mta-'));
  const usersDir = join(dir, 'users');
  const tlsDir = join(dir, 'tls');
  await ensureLabUsers(usersDir, 'secret');
  return {
    dir,
    usersDir,
    tlsDir,
    config: (env = {}) =>
      loadMtaConfig({
        MXLAB_USERS_DIR: usersDir,
        MXLAB_TLS_DIR: tlsDir,
        MTA_NAME: 'alpha-mta',
        MTA_HOSTNAME: 'mx.alpha.test',
        MTA_TLS_NAMES: 'localhost,127.0.0.1',
        MTA_LOCAL_DOMAINS: 'alpha.test',
        MTA_SMTP_LISTEN: '127.0.0.1:0',
        MTA_SUBMISSION_LISTEN: '127.0.0.1:0',
        MTA_SUBMISSIONS_LISTEN: '127.0.0.1:0',
        MTA_ADMIN_LISTEN: '',
        MTA_QUEUE_DIR: join(dir, 'queue'),
        // A closed port: DNS lookups (the null-MX check at RCPT) fail at once, not after a timeout.
        MTA_DNS_SERVER: '127.0.0.1:9',
        // No lab DNS here: the SPF/DKIM/DMARC checks are tested in services/mta/auth.
        MTA_AUTH_CHECKS: 'false',
        ...env,
      }),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface Reply {
  code: number;
  lines: string[];
  /** Whole reply, lines joined by \n, e.g. `550 5.7.1 Relay access denied`. */
  text: string;
}

const REPLY_TIMEOUT_MS = 10_000;

/** A scripted SMTP client over a raw socket: one reply per read, multi-line replies joined. */
export class RawSmtp {
  private socket: Socket | TLSSocket;
  /** The TCP socket under any TLS layered on it (STARTTLS). */
  private readonly tcp: Socket;
  private buffer = '';
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.tcp = socket;
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** `localAddress`: the client's own loopback address (the pregreet test remembers addresses). */
  static async connect(port: number, options: { tls?: { ca: string }; localAddress?: string } = {}): Promise<RawSmtp> {
    const local = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
    const socket = options.tls
      ? tlsConnect({ host: '127.0.0.1', port, ca: options.tls.ca, servername: 'localhost', ...local })
      : netConnect({ host: '127.0.0.1', port, ...local });
    await new Promise<void>((resolve, reject) => {
      socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawSmtp(socket);
  }

  /** Reads one complete reply (rejects on timeout or when the server closed without one). */
  async read(): Promise<Reply> {
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    for (;;) {
      const lines = this.buffer.split('\r\n');
      for (let index = 0; index < lines.length - 1; index += 1) {
        const line = lines[index] ?? '';
        if (/^\d{3}(?: |$)/u.test(line)) {
          const replyLines = lines.slice(0, index + 1);
          this.buffer = lines.slice(index + 1).join('\r\n');
          return { code: Number(line.slice(0, 3)), lines: replyLines, text: replyLines.join('\n') };
        }
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buffer)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${REPLY_TIMEOUT_MS} ms; unread: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** What arrived and was not read yet. */
  unread(): string {
    return this.buffer;
  }

  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.read();
  }

  /**
   * STARTTLS, then the session continues over TLS (the caller sends EHLO again).
   * `injected` is sent in plaintext in the same write, after STARTTLS (RFC 3207 §6 attack).
   */
  async startTls(ca: string, injected = ''): Promise<Reply> {
    this.write(`STARTTLS\r\n${injected}`);
    const reply = await this.read();
    if (reply.code !== 220) return reply;
    const raw = this.socket;
    raw.removeAllListeners('data');
    raw.removeAllListeners('close');
    const secure = tlsConnect({ socket: raw as Socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
    return reply;
  }

  /** Waits until the server closes the connection (bounded). */
  async closedByServer(timeoutMs = 5_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  /** Ends the connection with a TCP reset (RST), as a client that crashed or was killed. */
  reset(): void {
    this.tcp.resetAndDestroy();
  }
}

export function authPlain(user: string, password: string): string {
  return Buffer.from(`\0${user}\0${password}`).toString('base64');
}
