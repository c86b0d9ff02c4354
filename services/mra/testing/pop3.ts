/**
 * Test fixtures for the POP3 socket tests: a lab (users, CA, mail root, running server on
 * port 0) and a scripted raw-socket client. Used only by *.test.ts files.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { createLogger } from '../../../shared/log.ts';
import { runPython, runProcess, type ProcessResult } from '../../../shared/testing/processes.ts';
import { ensureServerCertificate } from '../../../shared/tls.ts';
import { ensureLabUsers, UserDirectory } from '../../../shared/users.ts';
import { deliverToMaildir } from '../../../shared/maildir/deliver.ts';
import { MaildirStore } from '../store/maildir-store.ts';
import { createPop3Server, type Pop3Server } from '../pop3/server.ts';

export interface Pop3Lab {
  base: string;
  mailRoot: string;
  caPath: string;
  ca: string;
  users: UserDirectory;
  server: Pop3Server;
  /** Plain port (STLS offered). */
  port: number;
  /** Implicit TLS port. */
  tlsPort: number;
  deliver(local: string, message: string | Buffer): Promise<string>;
  close(): Promise<void>;
}

export async function startPop3Lab(options: { allowPlaintextAuth: boolean; lock?: boolean }): Promise<Pop3Lab> {
  const base = await mkdtemp(join(tmpdir(), 'mxlab-pop3-'));
  const mailRoot = join(base, 'mail');
  await ensureLabUsers(join(base, 'users'), 'secret');
  const certificate = await ensureServerCertificate(join(base, 'tls'), 'beta-mra', ['pop.beta.test', 'localhost', '127.0.0.1']);
  const caPath = join(base, 'tls', 'ca.crt');
  await writeFile(caPath, certificate.ca);
  const users = new UserDirectory(join(base, 'users'));
  const logger = createLogger('beta-mra');
  const store = new MaildirStore(mailRoot, logger);
  const server = createPop3Server({
    users,
    store,
    mailRoot,
    lock: options.lock ?? false,
    hostname: 'pop.beta.test',
    tls: { cert: certificate.cert, key: certificate.key },
    allowPlaintextAuth: options.allowPlaintextAuth,
    domains: ['beta.test'],
    logger,
  });
  const plain = await server.listen({ host: '127.0.0.1', port: 0 }, { implicitTls: false });
  const secure = await server.listen({ host: '127.0.0.1', port: 0 }, { implicitTls: true });
  return {
    base,
    mailRoot,
    caPath,
    ca: certificate.ca,
    users,
    server,
    port: plain.port,
    tlsPort: secure.port,
    async deliver(local, message) {
      const result = await deliverToMaildir({ root: mailRoot, domain: 'beta.test', local, message: Buffer.from(message) });
      return result.uniqueName;
    },
    async close() {
      await server.close();
      await store.close();
    },
  };
}

/** Runs a Python 3 script given on stdin; resolves with stdout, rejects with stderr. */
export async function python(script: string, args: readonly string[] = []): Promise<string> {
  const result = await runPython(script, args);
  if (result.code !== 0) throw new Error(`python failed: ${result.stderr || `exit ${result.code}`}`);
  return result.stdout.toString();
}

export function curl(args: readonly string[]): Promise<ProcessResult> {
  return runProcess('curl', args);
}

/** A scripted POP3 client on a raw socket, for exact replies and abuse. */
export class RawPop3 {
  private buffer = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  private ended = false;
  socket: net.Socket;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.listen(socket);
  }

  static async connect(port: number, options: { tls?: { ca: string } } = {}): Promise<RawPop3> {
    const socket = options.tls
      ? tls.connect({ host: '127.0.0.1', port, ca: options.tls.ca, servername: 'pop.beta.test' })
      : net.connect({ host: '127.0.0.1', port });
    const client = new RawPop3(socket);
    const greeting = await client.line();
    if (!greeting.startsWith('+OK')) throw new Error(`bad greeting ${greeting}`);
    return client;
  }

  private listen(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  private async waitFor<T>(take: () => T | undefined): Promise<T> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.ended) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error(`timed out; buffered ${JSON.stringify(this.buffer.toString())}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** One status line, without its CRLF. */
  line(): Promise<string> {
    return this.waitFor(() => {
      const end = this.buffer.indexOf('\r\n');
      if (end === -1) return undefined;
      const text = this.buffer.subarray(0, end).toString();
      this.buffer = this.buffer.subarray(end + 2);
      return text;
    });
  }

  /** The raw multi-line body up to and excluding the terminating `.` line (still stuffed). */
  body(): Promise<Buffer> {
    return this.waitFor(() => {
      const end = this.buffer.indexOf('\r\n.\r\n');
      if (this.buffer.subarray(0, 3).toString() === '.\r\n') {
        this.buffer = this.buffer.subarray(3);
        return Buffer.alloc(0);
      }
      if (end === -1) return undefined;
      const body = this.buffer.subarray(0, end + 2);
      this.buffer = this.buffer.subarray(end + 5);
      return body;
    });
  }

  async command(line: string): Promise<string> {
    this.socket.write(`${line}\r\n`);
    return this.line();
  }

  /** Waits for the server to close the connection. */
  async closed(): Promise<void> {
    await this.waitFor(() => (this.ended ? true : undefined)).catch(() => undefined);
  }

  /** Switches to TLS after a `+OK` to STLS. */
  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, ca, servername: 'pop.beta.test' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.listen(secure);
  }

  end(): void {
    this.socket.destroy();
  }
}
