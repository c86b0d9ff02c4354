/**
 * clamd client: `zINSTREAM` over TCP (clamd(8), "INSTREAM"): the message in chunks,
 * each prefixed with its length as a 4-byte big-endian number, ended by a zero-length
 * chunk; the reply is one NUL-terminated line such as `stream: Eicar-Signature FOUND`.
 */
import type { HostPort } from '../../../shared/config.ts';
import { EngineError, type Engine, type EngineOutcome, type ScanInput } from './engine.ts';
import { tcpExchange } from './tcp-exchange.ts';

/** clamd reads chunks of at most StreamMaxLength; 64 KiB is what clamdscan sends. */
export const CLAMD_CHUNK_BYTES = 64 * 1024;

export type ClamdReply = { status: 'clean' } | { status: 'infected'; name: string } | { status: 'error'; message: string };

/** `stream: OK`, `stream: <name> FOUND`, `<text> ERROR`. */
export function parseClamdReply(text: string): ClamdReply {
  const line = text.replace(/\0+$/, '').trim();
  const found = /^(?:[^:]*: )?(.+) FOUND$/.exec(line);
  if (found?.[1] !== undefined) return { status: 'infected', name: found[1] };
  if (/^(?:[^:]*: )?OK$/.test(line)) return { status: 'clean' };
  return { status: 'error', message: line === '' ? 'empty reply' : line };
}

export function instreamFrames(data: Buffer, chunkBytes = CLAMD_CHUNK_BYTES): Buffer[] {
  const frames: Buffer[] = [Buffer.from('zINSTREAM\0', 'latin1')];
  for (let offset = 0; offset < data.length; offset += chunkBytes) {
    const chunk = data.subarray(offset, offset + chunkBytes);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(chunk.length);
    frames.push(length, chunk);
  }
  frames.push(Buffer.alloc(4));
  return frames;
}

export async function clamdScan(address: HostPort, data: Buffer, signal: AbortSignal): Promise<ClamdReply> {
  const peer = `clamd ${address.host}:${address.port}`;
  const reply = await tcpExchange({
    peer,
    address,
    request: instreamFrames(data),
    endAfterWrite: false,
    complete: (received) => received.includes(0),
    signal,
  });
  return parseClamdReply(reply.toString('latin1'));
}

export function createClamdEngine(address: HostPort): Engine {
  const peer = `clamd ${address.host}:${address.port}`;
  return {
    name: 'clamd',
    kind: 'virus',
    async scan({ message }: ScanInput, signal: AbortSignal): Promise<EngineOutcome> {
      const reply = await clamdScan(address, message.raw, signal);
      if (reply.status === 'error') throw new EngineError(`${peer}: ${reply.message}`);
      if (reply.status === 'infected') return { status: 'infected', viruses: [reply.name], detail: `${peer}: ${reply.name} FOUND` };
      return { status: 'clean', detail: `${peer}: OK` };
    },
  };
}
