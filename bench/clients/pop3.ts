/** A small raw POP3 client (RFC 1939) for load generation: USER/PASS, STAT, UIDL, RETR, QUIT. */
import { Connection, type Endpoint, type TlsOptions } from '../wire/connection.ts';
import { pop3ReplyParser, type Pop3Reply } from './pop3-wire.ts';

export class Pop3Error extends Error {
  override readonly name = 'Pop3Error';
}

export class Pop3Client {
  private readonly connection: Connection;

  private constructor(connection: Connection) {
    this.connection = connection;
  }

  static async connect(endpoint: Endpoint, tls?: TlsOptions): Promise<Pop3Client> {
    const client = new Pop3Client(await Connection.open(endpoint, tls));
    const greeting = await client.connection.read(pop3ReplyParser(false));
    if (!greeting.ok) throw new Pop3Error(`greeting: ${greeting.text}`);
    return client;
  }

  private async command(line: string, multiline: boolean): Promise<Pop3Reply> {
    this.connection.write(`${line}\r\n`);
    const reply = await this.connection.read(pop3ReplyParser(multiline));
    if (!reply.ok) throw new Pop3Error(`${line.split(' ')[0]}: ${reply.text}`);
    return reply;
  }

  /** Capability names (RFC 2449 CAPA); empty when the server has no CAPA. */
  async capa(): Promise<string[]> {
    this.connection.write('CAPA\r\n');
    const reply = await this.connection.read(pop3ReplyParser(true));
    if (!reply.ok) return [];
    return (reply.body ?? Buffer.alloc(0)).toString('latin1').split('\r\n').filter(Boolean).map((line) => line.split(' ')[0]!.toUpperCase());
  }

  async login(user: string, password: string): Promise<void> {
    await this.command(`USER ${user}`, false);
    await this.command(`PASS ${password}`, false);
  }

  /** Message count and total octets. */
  async stat(): Promise<{ count: number; octets: number }> {
    const reply = await this.command('STAT', false);
    const [count, octets] = reply.text.split(' ').map(Number);
    return { count: count ?? 0, octets: octets ?? 0 };
  }

  async uidl(): Promise<Buffer> {
    return (await this.command('UIDL', true)).body ?? Buffer.alloc(0);
  }

  async retr(message: number): Promise<Buffer> {
    return (await this.command(`RETR ${message}`, true)).body ?? Buffer.alloc(0);
  }

  /** RETR of several messages written at once: only when CAPA offered PIPELINING (RFC 2449 §6.6). */
  async retrMany(messages: readonly number[]): Promise<number> {
    this.connection.write(messages.map((n) => `RETR ${n}\r\n`).join(''));
    let octets = 0;
    for (const n of messages) {
      const reply = await this.connection.read(pop3ReplyParser(true));
      if (!reply.ok) throw new Pop3Error(`RETR ${n}: ${reply.text}`);
      octets += reply.body?.length ?? 0;
    }
    return octets;
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT', false);
    } finally {
      this.connection.close();
    }
  }
}
