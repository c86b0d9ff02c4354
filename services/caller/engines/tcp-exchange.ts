/**
 * One request/response exchange with a daemon over TCP (clamd, spamd): connect, send,
 * read until the peer closes or the reply is complete. Aborting the signal destroys the
 * socket, so a hung daemon costs no more than the engine's timeout.
 */
import net from 'node:net';
import type { HostPort } from '../../../shared/config.ts';
import { EngineError } from './engine.ts';

/** No daemon reply we parse is larger; more is a broken peer. */
export const MAX_REPLY_BYTES = 1024 * 1024;

export interface Exchange {
  /** A label for errors: `clamd 127.0.0.1:3310`. */
  peer: string;
  address: HostPort;
  request: Buffer[];
  /** Half-close after sending (spamd reads to end of input). */
  endAfterWrite: boolean;
  /** True when `received` holds the whole reply (clamd ends its reply with NUL). */
  complete?: (received: Buffer) => boolean;
  signal: AbortSignal;
}

export function tcpExchange(exchange: Exchange): Promise<Buffer> {
  const { peer, address, signal } = exchange;
  return new Promise((resolve, reject) => {
    signal.throwIfAborted();
    const socket = net.connect({ host: address.host, port: address.port });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      if (error === undefined) resolve(Buffer.concat(chunks));
      else reject(error);
    };
    const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new EngineError(`${peer}: aborted`));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      for (const chunk of exchange.request) socket.write(chunk);
      if (exchange.endAfterWrite) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size > MAX_REPLY_BYTES) finish(new EngineError(`${peer}: reply larger than ${MAX_REPLY_BYTES} bytes`));
      else if (exchange.complete?.(Buffer.concat(chunks)) === true) finish(undefined);
    });
    socket.once('end', () => finish(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) => finish(new EngineError(`${peer}: ${error.code ?? error.message}`, { cause: error })));
  });
}
