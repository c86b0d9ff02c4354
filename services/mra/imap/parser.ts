/**
 * IMAP command syntax (RFC 3501 §9): a framed command (reader.ts) becomes a tag, a verb
 * and a list of tokens. Tokens are atoms, strings (quoted or literal, kept as bytes),
 * parenthesized lists and NIL. A FETCH attribute such as `BODY.PEEK[HEADER.FIELDS (A B)]<0.10>`
 * is one atom: brackets are taken whole, so the FETCH module parses what is inside.
 */

export type Token =
  | { type: 'atom'; value: string }
  | { type: 'string'; value: Buffer; literal: boolean }
  | { type: 'list'; items: Token[] }
  /** `text` is the atom as sent: NIL where the grammar has nstring, the atom "NIL" where it has astring. */
  | { type: 'nil'; text: string };

export interface ParsedCommand {
  tag: string;
  /** Upper-cased; `UID FETCH` etc. for UID commands. */
  verb: string;
  args: Token[];
}

export class ImapSyntaxError extends Error {
  override readonly name = 'ImapSyntaxError';
  readonly tag: string | undefined;
  constructor(message: string, tag?: string) {
    super(message);
    this.tag = tag;
  }
}

/** RFC 3501 §9 atom-specials, minus the list wildcards and `\` which flags need; `]` is handled by bracket nesting. */
const ATOM_STOP = new Set([0x20, 0x28, 0x29, 0x7b, 0x22, 0x0d, 0x0a]);
/** Nesting of lists inside one command. */
export const MAX_LIST_DEPTH = 16;

export class TokenStream {
  private pos = 0;
  private readonly data: Buffer;

  constructor(data: Buffer) {
    this.data = data;
  }

  get done(): boolean {
    return this.pos >= this.data.length;
  }

  peek(): number | undefined {
    return this.data[this.pos];
  }

  private expectSpaceOrEnd(closing: number | undefined): void {
    const next = this.data[this.pos];
    if (next === undefined || next === closing) return;
    if (next !== 0x20) throw new ImapSyntaxError(`expected a space at offset ${this.pos}`);
    this.pos += 1;
    if (this.data[this.pos] === 0x20) throw new ImapSyntaxError(`two spaces at offset ${this.pos}`);
  }

  /** Reads tokens up to the end (or the closing parenthesis of a list). */
  readAll(closing?: number, depth = 0): Token[] {
    const tokens: Token[] = [];
    while (this.pos < this.data.length && this.data[this.pos] !== closing) {
      tokens.push(this.readToken(depth));
      this.expectSpaceOrEnd(closing);
    }
    return tokens;
  }

  readToken(depth = 0): Token {
    const char = this.data[this.pos];
    if (char === undefined) throw new ImapSyntaxError('missing argument');
    if (char === 0x28) {
      if (depth >= MAX_LIST_DEPTH) throw new ImapSyntaxError('lists nested too deep');
      this.pos += 1;
      const items = this.readAll(0x29, depth + 1);
      if (this.data[this.pos] !== 0x29) throw new ImapSyntaxError('unterminated list');
      this.pos += 1;
      return { type: 'list', items };
    }
    if (char === 0x22) return this.readQuoted();
    if (char === 0x7b) return this.readLiteral();
    if (char === 0x29) throw new ImapSyntaxError('unexpected )');
    return this.readAtom();
  }

  private readQuoted(): Token {
    const bytes: number[] = [];
    for (let i = this.pos + 1; i < this.data.length; i += 1) {
      const byte = this.data[i] ?? 0;
      if (byte === 0x22) {
        this.pos = i + 1;
        return { type: 'string', value: Buffer.from(bytes), literal: false };
      }
      if (byte === 0x0d || byte === 0x0a || byte === 0) throw new ImapSyntaxError('CR, LF or NUL in a quoted string');
      if (byte === 0x5c) {
        const escaped = this.data[i + 1];
        if (escaped !== 0x22 && escaped !== 0x5c) throw new ImapSyntaxError('only \\" and \\\\ may be escaped in a quoted string');
        bytes.push(escaped);
        i += 1;
      } else {
        bytes.push(byte);
      }
    }
    throw new ImapSyntaxError('unterminated quoted string');
  }

  private readLiteral(): Token {
    const close = this.data.indexOf(0x7d, this.pos);
    const match = close === -1 ? null : /^\{(\d+)\+?\}$/u.exec(this.data.subarray(this.pos, close + 1).toString('latin1'));
    if (!match || this.data[close + 1] !== 0x0d || this.data[close + 2] !== 0x0a) throw new ImapSyntaxError('bad literal');
    const size = Number(match[1]);
    const start = close + 3;
    if (start + size > this.data.length) throw new ImapSyntaxError('literal shorter than announced');
    this.pos = start + size;
    return { type: 'string', value: this.data.subarray(start, start + size), literal: true };
  }

  private readAtom(): Token {
    const start = this.pos;
    let depth = 0;
    while (this.pos < this.data.length) {
      const byte = this.data[this.pos] ?? 0;
      if (byte === 0x5b) depth += 1;
      else if (byte === 0x5d && depth > 0) depth -= 1;
      else if (depth === 0 && ATOM_STOP.has(byte)) break;
      else if (byte < 0x20 || byte === 0x7f) throw new ImapSyntaxError('control character in an atom');
      this.pos += 1;
    }
    if (depth > 0) {
      // `[` is an ATOM-CHAR (a mailbox may be named `a[b`): a bracket that never closes
      // was no FETCH section, so the atom ends at the first atom-special, as Dovecot reads it.
      this.pos = start;
      while (this.pos < this.data.length && !ATOM_STOP.has(this.data[this.pos] ?? 0)) this.pos += 1;
    }
    if (this.pos === start) throw new ImapSyntaxError(`unexpected character at offset ${start}`);
    const value = this.data.subarray(start, this.pos).toString('latin1');
    return value.toUpperCase() === 'NIL' ? { type: 'nil', text: value } : { type: 'atom', value };
  }
}

const TAG = /^[\x21-\x7e]+$/u;

/** Splits a framed command into tag, verb and arguments; errors carry the tag when known. */
export function parseCommand(raw: Buffer): ParsedCommand {
  const firstSpace = raw.indexOf(0x20);
  const tag = (firstSpace === -1 ? raw : raw.subarray(0, firstSpace)).toString('latin1');
  if (tag === '' || !TAG.test(tag) || /[(){%*"\\+]/u.test(tag)) throw new ImapSyntaxError('missing or invalid tag');
  if (firstSpace === -1) throw new ImapSyntaxError('missing command', tag);
  const stream = new TokenStream(raw.subarray(firstSpace + 1));
  try {
    const verbToken = stream.readToken();
    if (verbToken.type !== 'atom' || !/^[A-Za-z]+$/u.test(verbToken.value)) throw new ImapSyntaxError('missing command', tag);
    let verb = verbToken.value.toUpperCase();
    if (!stream.done && stream.peek() !== 0x20) throw new ImapSyntaxError('expected a space after the command');
    const rest = new TokenStream(raw.subarray(firstSpace + 1 + verbToken.value.length + (stream.done ? 0 : 1)));
    if (verb === 'UID') {
      const sub = rest.readToken();
      if (sub.type !== 'atom') throw new ImapSyntaxError('UID needs a command', tag);
      verb = `UID ${sub.value.toUpperCase()}`;
      const next = rest.peek();
      if (next !== undefined && next !== 0x20) throw new ImapSyntaxError('expected a space');
      if (next === 0x20) return { tag, verb, args: new TokenStream(raw.subarray(firstSpace + 1 + verbToken.value.length + 1 + sub.value.length + 1)).readAll() };
      return { tag, verb, args: [] };
    }
    return { tag, verb, args: rest.readAll() };
  } catch (error) {
    if (error instanceof ImapSyntaxError && error.tag === undefined) throw new ImapSyntaxError(error.message, tag);
    throw error;
  }
}

/** Token → text for astring-like arguments (atom, NIL as the atom it is, or string); undefined for lists. */
export function tokenText(token: Token | undefined): string | undefined {
  if (!token) return undefined;
  if (token.type === 'atom') return token.value;
  if (token.type === 'nil') return token.text;
  if (token.type === 'string') return token.value.toString('utf8');
  return undefined;
}
