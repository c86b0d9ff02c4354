/**
 * A minimal POP3 client (RFC 1939) over implicit TLS, enough for the e2e suite to read a
 * mailbox the way a mail client does: USER/PASS, STAT, RETR, QUIT.
 */
import { connect, type TLSSocket } from 'node:tls';

/** A whole session is a few short commands; anything slower is a failure. */
const SESSION_TIMEOUT_MS = 30_000;

export interface Pop3Options {
  host: string;
  port: number;
  /** Name the certificate must carry (pop.<domain>). */
  servername: string;
  ca: string;
  user: string;
  password: string;
}

class Pop3Session {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private readonly socket: TLSSocket;

  constructor(socket: TLSSocket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      this.waiting?.();
    });
    socket.on('error', (error) => {
      this.failure = error;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.failure ??= new Error('POP3 server closed the connection');
      this.waiting?.();
    });
  }

  private async until(complete: (buffer: string) => number): Promise<string> {
    for (;;) {
      const end = complete(this.buffer);
      if (end >= 0) {
        const text = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end);
        return text;
      }
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  /** One status line; throws on -ERR. */
  async status(): Promise<string> {
    const line = await this.until((b) => (b.indexOf('\r\n') >= 0 ? b.indexOf('\r\n') + 2 : -1));
    if (!line.startsWith('+OK')) throw new Error(`POP3: ${line.trim()}`);
    return line.trim();
  }

  /** A multi-line answer after +OK, dot-unstuffed, without the final ".". */
  async multiline(): Promise<string> {
    await this.status();
    const body = await this.until((b) => {
      if (b.startsWith('.\r\n')) return 3;
      const end = b.indexOf('\r\n.\r\n');
      return end >= 0 ? end + 5 : -1;
    });
    const text = body === '.\r\n' ? '' : body.slice(0, -3);
    return text.replace(/^\.\./gmu, '.');
  }

  command(line: string): void {
    this.socket.write(`${line}\r\n`);
  }
}

/** Every message of the mailbox, in order, as raw RFC 5322 text. */
export async function pop3Messages(options: Pop3Options): Promise<string[]> {
  const socket = connect({ host: options.host, port: options.port, servername: options.servername, ca: options.ca });
  socket.setTimeout(SESSION_TIMEOUT_MS, () => socket.destroy(new Error('POP3 session timed out')));
  const session = new Pop3Session(socket);
  try {
    await session.status();
    session.command(`USER ${options.user}`);
    await session.status();
    session.command(`PASS ${options.password}`);
    await session.status();
    session.command('STAT');
    const count = Number((await session.status()).split(' ')[1]);
    const messages: string[] = [];
    for (let n = 1; n <= count; n += 1) {
      session.command(`RETR ${n}`);
      messages.push(await session.multiline());
    }
    session.command('QUIT');
    await session.status();
    return messages;
  } finally {
    socket.destroy();
  }
}
