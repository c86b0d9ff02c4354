/**
 * The lexical layer of RFC 1035 §5.1 master files: splits the text into entries (one
 * per logical line; parentheses let an entry span lines), drops comments, and reads
 * quoted character-strings with their `\X` and `\DDD` escapes.
 */

export interface ZoneToken {
  text: string;
  quoted: boolean;
}

export interface ZoneEntry {
  /** 1-based line where the entry starts. */
  line: number;
  /** The entry started with blanks: its owner is the previous entry's owner. */
  ownerOmitted: boolean;
  tokens: ZoneToken[];
}

export class ZoneLexError extends Error {
  override readonly name = 'ZoneLexError';
  readonly line: number;

  constructor(line: number, message: string) {
    super(message);
    this.line = line;
  }
}

const BLANK = new Set([' ', '\t', '\r']);
const DELIMITERS = new Set([' ', '\t', '\r', '\n', ';', '(', ')', '"']);

export function tokenizeZone(text: string): ZoneEntry[] {
  const entries: ZoneEntry[] = [];
  let line = 1;
  let depth = 0;
  let current: ZoneEntry | undefined;
  let atLineStart = true;
  let i = 0;

  const push = (token: ZoneToken): void => {
    current ??= { line, ownerOmitted: false, tokens: [] };
    current.tokens.push(token);
  };
  const endEntry = (): void => {
    if (current !== undefined && current.tokens.length > 0) entries.push(current);
    current = undefined;
  };

  while (i < text.length) {
    const char = text[i] ?? '';
    if (atLineStart) {
      atLineStart = false;
      if (depth === 0 && BLANK.has(char)) current = { line, ownerOmitted: true, tokens: [] };
    }
    if (char === '\n') {
      line++;
      i++;
      atLineStart = true;
      if (depth === 0) endEntry();
      continue;
    }
    if (BLANK.has(char)) {
      i++;
      continue;
    }
    if (char === ';') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (char === '(') {
      depth++;
      i++;
      continue;
    }
    if (char === ')') {
      if (depth === 0) throw new ZoneLexError(line, 'unbalanced ")"');
      depth--;
      i++;
      continue;
    }
    if (char === '"') {
      const { value, end, lines } = readQuoted(text, i + 1, line);
      push({ text: value, quoted: true });
      line += lines;
      i = end;
      continue;
    }
    let end = i;
    let value = '';
    while (end < text.length && !DELIMITERS.has(text[end] ?? '')) {
      if (text[end] === '\\' && end + 1 < text.length) {
        value += text.slice(end, end + 2);
        end += 2;
      } else {
        value += text[end];
        end++;
      }
    }
    push({ text: value, quoted: false });
    i = end;
  }
  if (depth !== 0) throw new ZoneLexError(line, 'unclosed "(" at end of file');
  endEntry();
  return entries;
}

/** Reads a quoted string starting after its opening quote; decodes `\X` and `\DDD`. */
function readQuoted(text: string, start: number, line: number): { value: string; end: number; lines: number } {
  let value = '';
  let lines = 0;
  let i = start;
  while (i < text.length) {
    const char = text[i] ?? '';
    if (char === '"') return { value, end: i + 1, lines };
    if (char === '\\') {
      const digits = /^\d{3}/.exec(text.slice(i + 1, i + 4));
      if (digits !== null) {
        const code = Number(digits[0]);
        if (code > 255) throw new ZoneLexError(line + lines, `bad escape \\${digits[0]}`);
        value += String.fromCharCode(code);
        i += 4;
        continue;
      }
      const escaped = text[i + 1];
      if (escaped === undefined) break;
      if (escaped === '\n') lines++;
      value += escaped;
      i += 2;
      continue;
    }
    if (char === '\n') lines++;
    value += char;
    i++;
  }
  throw new ZoneLexError(line, 'unclosed quoted string');
}
