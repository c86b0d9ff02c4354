/**
 * A small SMTP client for load generation: one session, EHLO, STARTTLS, AUTH PLAIN, and
 * transactions with MAIL/RCPT/DATA pipelined when the server offers PIPELINING
 * (RFC 2920). It measures the accept latency: from the end of DATA sent to the reply.
 */
import { performance } from 'node:perf_hooks';
import { Connection, type Endpoint, type TlsOptions } from '../wire/connection.ts';
import { dataPayload, smtpReplyParser, type SmtpReply } from './smtp-wire.ts';

export class SmtpError extends Error {
  override readonly name = 'SmtpError';
  readonly reply: SmtpReply;

  constructor(step: string, reply: SmtpReply) {
    super(`${step}: ${reply.code} ${reply.lines.join(' / ')}`);
    this.reply = reply;
  }
}

export class SmtpClient {
  private readonly connection: Connection;
  private capabilities: string[] = [];

  private constructor(connection: Connection) {
    this.connection = connection;
  }

  static async connect(endpoint: Endpoint, tls?: TlsOptions): Promise<SmtpClient> {
    const client = new SmtpClient(await Connection.open(endpoint, tls));
    await client.expect('greeting', 220);
    return client;
  }

  private async reply(): Promise<SmtpReply> {
    return this.connection.read(smtpReplyParser());
  }

  private async expect(step: string, code: number): Promise<SmtpReply> {
    const reply = await this.reply();
    if (reply.code !== code) throw new SmtpError(step, reply);
    return reply;
  }

  private async command(line: string, code: number): Promise<SmtpReply> {
    this.connection.write(`${line}\r\n`);
    return this.expect(line.split(' ')[0] ?? line, code);
  }

  async ehlo(name: string): Promise<void> {
    const reply = await this.command(`EHLO ${name}`, 250);
    this.capabilities = reply.lines.slice(1).map((line) => line.toUpperCase());
  }

  has(capability: string): boolean {
    return this.capabilities.some((line) => line === capability || line.startsWith(`${capability} `));
  }

  async startTls(options: TlsOptions, ehloName: string): Promise<void> {
    await this.command('STARTTLS', 220);
    await this.connection.startTls(options);
    await this.ehlo(ehloName);
  }

  async authPlain(user: string, password: string): Promise<void> {
    const token = Buffer.from(`\0${user}\0${password}`).toString('base64');
    await this.command(`AUTH PLAIN ${token}`, 235);
  }

  /** One transaction; resolves with the accept latency in milliseconds. */
  async send(from: string, to: readonly string[], message: Buffer): Promise<number> {
    const envelope = [`MAIL FROM:<${from}>`, ...to.map((rcpt) => `RCPT TO:<${rcpt}>`), 'DATA'];
    if (this.has('PIPELINING')) {
      this.connection.write(`${envelope.join('\r\n')}\r\n`);
      const replies: SmtpReply[] = [];
      for (let i = 0; i < envelope.length; i += 1) replies.push(await this.reply());
      replies.forEach((reply, i) => {
        const expected = i === envelope.length - 1 ? 354 : 250;
        if (reply.code !== expected) throw new SmtpError(envelope[i] ?? '', reply);
      });
    } else {
      for (const line of envelope.slice(0, -1)) await this.command(line, 250);
      await this.command('DATA', 354);
    }
    this.connection.write(dataPayload(message));
    const sent = performance.now();
    await this.expect('end of DATA', 250);
    return performance.now() - sent;
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT', 221);
    } finally {
      this.connection.close();
    }
  }
}
