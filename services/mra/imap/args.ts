/** Argument schema helpers shared by the command modules: each throws ArgumentError (→ BAD). */
import { ArgumentError } from './command.ts';
import { tokenText, type Token } from './parser.ts';
import { parseSequenceSet, type SequenceRange } from './sequence.ts';

export function count(args: readonly Token[], min: number, max = min): void {
  if (args.length < min) throw new ArgumentError(`missing arguments (expected ${min === max ? min : `${min} to ${max}`})`);
  if (args.length > max) throw new ArgumentError(`too many arguments (expected ${min === max ? min : `${min} to ${max}`})`);
}

export function none(args: readonly Token[]): void {
  count(args, 0);
}

export function astring(token: Token | undefined, what: string): string {
  const text = tokenText(token);
  if (text === undefined) throw new ArgumentError(`${what} must be an atom or a string`);
  return text;
}

/** Mailbox names (RFC 3501 §5.1): INBOX is case-insensitive, the rest is checked by the store. */
export function mailbox(token: Token | undefined): string {
  const name = astring(token, 'mailbox name');
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/** An atom; `NIL` is one too where the grammar asks for an atom (a keyword, a search key). */
export function atom(token: Token | undefined, what: string): string {
  if (token?.type === 'nil') return token.text;
  if (token?.type !== 'atom') throw new ArgumentError(`${what} must be an atom`);
  return token.value;
}

export function list(token: Token | undefined, what: string): Token[] {
  if (token?.type !== 'list') throw new ArgumentError(`${what} must be a parenthesized list`);
  return token.items;
}

export function number(token: Token | undefined, what: string): number {
  const text = token?.type === 'atom' ? token.value : undefined;
  if (text === undefined || !/^\d{1,20}$/u.test(text) || !Number.isSafeInteger(Number(text))) throw new ArgumentError(`${what} must be a number`);
  return Number(text);
}

export function sequenceSet(token: Token | undefined): SequenceRange[] {
  const text = token?.type === 'atom' ? token.value : undefined;
  const ranges = text === undefined ? undefined : parseSequenceSet(text);
  if (!ranges) throw new ArgumentError('invalid sequence set');
  return ranges;
}

const FLAG = /^\\?[^\s(){%*"\\\]\u0000-\u001f\u007f]+$/u;

/** A flag list `(\Seen $Label)` or a single flag; `\Recent` may not be set (RFC 3501 §2.3.2). */
export function flags(token: Token | undefined): string[] {
  const items = token?.type === 'list' ? token.items : token ? [token] : [];
  if (!token) throw new ArgumentError('missing flag list');
  return items.map((item) => {
    // A keyword named NIL is an atom like any other (Dovecot stores it).
    const value = item.type === 'atom' ? item.value : item.type === 'nil' ? item.text : undefined;
    if (value === undefined || !FLAG.test(value)) throw new ArgumentError('invalid flag');
    const canonical = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft'].find((flag) => flag.toLowerCase() === value.toLowerCase());
    if (value.startsWith('\\') && canonical === undefined) throw new ArgumentError(`${value} cannot be stored`);
    return canonical ?? value;
  });
}
