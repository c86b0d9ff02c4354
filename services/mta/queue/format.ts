/**
 * The spool's file formats (one file per message):
 *
 *   active/<queueId>.msg    `MXQ1 ` + one line of JSON ({ meta, recipients }) + `\n`,
 *                           then the message bytes exactly as they will be delivered.
 *                           Written once, never changed; the recipients in it are the
 *                           states at enqueue time.
 *   active/<queueId>.state  JSON array of every recipient's current state; when present
 *                           it supersedes the states in the .msg envelope.
 *
 * JSON.stringify never emits a raw newline, so the first `\n` ends the envelope; the body
 * starts right after it and its length is meta.size, which makes a torn file detectable.
 */
import { open } from 'node:fs/promises';
import type { MessageMeta, RecipientState } from './types.ts';

export const MESSAGE_SUFFIX = '.msg';
export const STATE_SUFFIX = '.state';
const MAGIC = 'MXQ1 ';
const NEWLINE = 0x0a;
/** Envelope reads grow by this much until the newline is found. */
const HEADER_CHUNK = 16 * 1024;
/** An envelope longer than this is not one of ours (recipients are capped far below it). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
export interface Envelope {
  meta: MessageMeta;
  recipients: RecipientState[];
}

export interface LoadedEnvelope extends Envelope {
  /** Byte offset of the message in the .msg file. */
  bodyOffset: number;
}

/** The envelope line that starts a .msg file (the message bytes follow it). */
export function encodeEnvelope(envelope: Envelope): Buffer {
  return Buffer.from(`${MAGIC}${JSON.stringify(envelope)}\n`, 'utf8');
}

function parseEnvelope(header: Buffer, fileSize: number): LoadedEnvelope {
  const text = header.toString('utf8');
  if (!text.startsWith(MAGIC)) throw new Error('not a spool message file (no MXQ1 envelope)');
  const envelope = JSON.parse(text.slice(MAGIC.length)) as Envelope;
  if (typeof envelope.meta?.size !== 'number' || !Array.isArray(envelope.recipients) || envelope.recipients.length === 0) {
    throw new Error('envelope without meta or recipients');
  }
  const bodyOffset = header.length + 1;
  if (fileSize !== bodyOffset + envelope.meta.size) {
    throw new Error(`message file has ${fileSize - bodyOffset} body bytes, its envelope says ${envelope.meta.size}`);
  }
  return { ...envelope, bodyOffset };
}

/** Reads and checks the envelope of a .msg file (not the message itself). */
export async function readEnvelope(path: string): Promise<LoadedEnvelope> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    let header = Buffer.alloc(0);
    for (let position = 0; position < size && position < MAX_HEADER_BYTES; position += HEADER_CHUNK) {
      const chunk = Buffer.alloc(Math.min(HEADER_CHUNK, size - position));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, position);
      const end = chunk.subarray(0, bytesRead).indexOf(NEWLINE);
      if (end >= 0) return parseEnvelope(Buffer.concat([header, chunk.subarray(0, end)]), size);
      header = Buffer.concat([header, chunk.subarray(0, bytesRead)]);
      if (bytesRead < chunk.length) break;
    }
    throw new Error('message file has no complete envelope');
  } finally {
    await handle.close();
  }
}

/** Parses a .state file: every recipient's state. */
export function parseStates(text: string): RecipientState[] {
  const states = JSON.parse(text) as RecipientState[];
  if (!Array.isArray(states) || states.some((state) => typeof state?.recipient !== 'string')) throw new Error('malformed state file');
  return states;
}

/** The states of a .state file (or the envelope's, when there is none), checked against the envelope's recipients. */
export function currentStates(envelope: Pick<Envelope, 'recipients'>, stateText: string | undefined): RecipientState[] {
  if (stateText === undefined) return envelope.recipients;
  const states = parseStates(stateText);
  const expected = envelope.recipients.map((state) => state.recipient).join('\n');
  if (states.map((state) => state.recipient).join('\n') !== expected) throw new Error('state file names other recipients');
  return states;
}

/** Reads `length` bytes at `offset` of `path` (the message in its .msg file). */
export async function readRange(path: string, offset: number, length: number): Promise<Buffer> {
  const data = Buffer.alloc(length);
  const handle = await open(path, 'r');
  try {
    for (let done = 0; done < length; ) {
      const { bytesRead } = await handle.read(data, done, length - done, offset + done);
      if (bytesRead === 0) throw new Error(`${path} is shorter than expected`);
      done += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return data;
}
