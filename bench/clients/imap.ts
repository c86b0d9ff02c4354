/**
 * A small raw IMAP client: one tagged command at a time, each timed from its write to
 * its tagged completion, so every counted command is exactly one IMAP command.
 */
import { performance } from 'node:perf_hooks';
import { Connection, type Endpoint, type TlsOptions } from '../wire/connection.ts';
import { imapResponseParser, quoted, type ImapCompletion } from './imap-wire.ts';

export interface TimedCompletion extends ImapCompletion {
  ms: number;
}

export class ImapError extends Error {
  override readonly name = 'ImapError';
}

export class ImapClient {
  private readonly connection: Connection;
  private counter = 0;

  private constructor(connection: Connection) {
    this.connection = connection;
  }

  static async connect(endpoint: Endpoint, tls?: TlsOptions): Promise<ImapClient> {
    const connection = await Connection.open(endpoint, tls);
    const greeting = await connection.read((buffer) => buffer.line());
    if (!/^\* (OK|PREAUTH)/iu.test(greeting)) throw new ImapError(`bad greeting: ${greeting}`);
    return new ImapClient(connection);
  }

  /** Sends `command` under a fresh tag; rejects unless the completion is OK. */
  async run(command: string): Promise<TimedCompletion> {
    this.counter += 1;
    const tag = `b${this.counter}`;
    const started = performance.now();
    this.connection.write(`${tag} ${command}\r\n`);
    const completion = await this.connection.read(imapResponseParser(tag));
    const ms = performance.now() - started;
    if (completion.status !== 'OK') throw new ImapError(`${command.split(' ')[0]}: ${completion.text}`);
    return { ...completion, ms };
  }

  login(user: string, password: string): Promise<TimedCompletion> {
    return this.run(`LOGIN ${quoted(user)} ${quoted(password)}`);
  }

  async logout(): Promise<TimedCompletion> {
    try {
      return await this.run('LOGOUT');
    } finally {
      this.connection.close();
    }
  }

  close(): void {
    this.connection.close();
  }
}
