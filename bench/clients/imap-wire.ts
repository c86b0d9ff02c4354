/**
 * IMAP response reading (RFC 3501 §7, §4.3): responses are lines, except that a line
 * ending in `{n}` announces a literal of exactly n octets, after which the same response
 * goes on. The parser keeps untagged responses as text with each literal replaced by
 * `{n}`, and counts literal octets, until the tagged completion of one command.
 */
import type { WireBuffer } from '../wire/wire-buffer.ts';

export interface ImapCompletion {
  status: 'OK' | 'NO' | 'BAD';
  text: string;
  /** Untagged responses, literals replaced by their `{n}` announcement. */
  untagged: string[];
  literalOctets: number;
}

const LITERAL_AT_END = /\{(\d+)\+?\}$/u;

export function imapResponseParser(tag: string): (buffer: WireBuffer) => ImapCompletion | undefined {
  const untagged: string[] = [];
  let current = '';
  let literal = -1;
  let literalOctets = 0;
  return (buffer) => {
    for (;;) {
      if (literal >= 0) {
        const bytes = buffer.bytes(literal);
        if (bytes === undefined) return undefined;
        literalOctets += literal;
        literal = -1;
      }
      const line = buffer.line();
      if (line === undefined) return undefined;
      current += line;
      const announced = LITERAL_AT_END.exec(line);
      if (announced) {
        literal = Number(announced[1]);
        continue;
      }
      const response = current;
      current = '';
      if (response.startsWith('* ') || response.startsWith('+')) {
        untagged.push(response);
        continue;
      }
      if (response.startsWith(`${tag} `)) {
        const rest = response.slice(tag.length + 1);
        const status = rest.slice(0, rest.indexOf(' ') === -1 ? undefined : rest.indexOf(' ')).toUpperCase();
        if (status !== 'OK' && status !== 'NO' && status !== 'BAD') throw new Error(`bad completion: ${response}`);
        return { status, text: rest, untagged, literalOctets };
      }
      throw new Error(`unexpected IMAP response while waiting for ${tag}: ${response.slice(0, 200)}`);
    }
  };
}

/** `* N EXISTS` from a SELECT/EXAMINE, or undefined. */
export function existsCount(untagged: readonly string[]): number | undefined {
  for (const line of untagged) {
    const match = /^\* (\d+) EXISTS/iu.exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** MESSAGES from `* STATUS mailbox (MESSAGES n …)`, or undefined. */
export function statusMessages(untagged: readonly string[]): number | undefined {
  for (const line of untagged) {
    const match = /^\* STATUS .*\bMESSAGES (\d+)/iu.exec(line);
    if (match) return Number(match[1]);
  }
  return undefined;
}

/** Quoted string (RFC 3501 §4.3) for LOGIN arguments. */
export function quoted(value: string): string {
  return `"${value.replace(/[\\"]/gu, (char) => `\\${char}`)}"`;
}
