/**
 * One client socket for the load generators: connect (plain or TLS), upgrade to TLS in
 * place (STARTTLS, STLS), write, and read by handing a parser the received bytes until
 * it returns a value. A read that sees no progress for READ_TIMEOUT_MS fails, so a
 * stuck server ends a benchmark with an error instead of hanging it.
 */
import net from 'node:net';
import tls from 'node:tls';
import { WireBuffer } from './wire-buffer.ts';

export const READ_TIMEOUT_MS = 60_000;

export interface Endpoint {
  host: string;
  port: number;
}

export interface TlsOptions {
  /** CA certificates to trust (the lab CA). */
  ca?: string;
  servername?: string;
}

type Parser<T> = (buffer: WireBuffer) => T | undefined;

export class Connection {
  private socket: net.Socket;
  private readonly buffer = new WireBuffer();
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async open(endpoint: Endpoint, tlsOptions?: TlsOptions): Promise<Connection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      const socket = tlsOptions
        ? tls.connect({ host: endpoint.host, port: endpoint.port, ca: tlsOptions.ca, servername: tlsOptions.servername }, () => resolve(socket))
        : net.connect({ host: endpoint.host, port: endpoint.port }, () => resolve(socket));
      socket.once('error', onError);
      socket.once('connect', () => socket.off('error', onError));
      socket.once('secureConnect', () => socket.off('error', onError));
    });
    socket.setNoDelay(true);
    return new Connection(socket);
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer.feed(chunk);
      this.wake();
    });
    socket.on('error', (error: Error) => {
      this.failure = error;
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async read<T>(parse: Parser<T>): Promise<T> {
    for (;;) {
      const value = parse(this.buffer);
      if (value !== undefined) return value;
      if (this.failure) throw this.failure;
      if (this.ended) throw new Error('the server closed the connection');
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiting = undefined;
          reject(new Error(`no reply within ${READ_TIMEOUT_MS} ms`));
        }, READ_TIMEOUT_MS);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Replaces the plain socket by a TLS one over it (after the server said go ahead). */
  async startTls(options: TlsOptions): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('end');
    plain.removeAllListeners('error');
    const secure = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const socket = tls.connect({ socket: plain, ca: options.ca, servername: options.servername }, () => resolve(socket));
      socket.once('error', reject);
    });
    secure.removeAllListeners('error');
    this.socket = secure;
    this.attach(secure);
  }

  close(): void {
    this.socket.destroy();
  }
}
