/**
 * Reply values and their wire form (RFC 3501 §4 and §7). Handlers build values; the
 * session's one writer turns them into bytes with `encodeResponse`.
 */

export interface Quoted {
  readonly quoted: string;
}
export interface Literal {
  readonly literal: Buffer;
}
/** Items written one after the other without spaces (RFC 3501 body-type-mpart: `1*body SP subtype`). */
export interface Concat {
  readonly concat: readonly ImapValue[];
}
/** A string atom is written as is; use `str()` for anything a client gave or a message holds. */
export type ImapValue = string | number | null | Quoted | Literal | Concat | readonly ImapValue[];

export type Status = 'OK' | 'NO' | 'BAD' | 'BYE' | 'PREAUTH';

export type Response =
  | { kind: 'untagged'; values: readonly ImapValue[] }
  /** Untagged (tag undefined) or tagged status response with an optional `[CODE …]`. */
  | { kind: 'status'; tag: string | undefined; status: Status; code?: string; text: string }
  | { kind: 'continuation'; text: string };

export const untagged = (...values: ImapValue[]): Response => ({ kind: 'untagged', values });

/** Quoted when it can be (printable ASCII, short), else a literal; null is NIL. */
export function str(value: string | Buffer | null | undefined): ImapValue {
  if (value === null || value === undefined) return null;
  const buffer = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (buffer.length <= 1024 && !buffer.some((byte) => byte < 0x20 || byte > 0x7e)) {
    return { quoted: buffer.toString('latin1') };
  }
  return { literal: buffer };
}

/** Atom if it safely can be, else a string (mailbox names in LIST, STATUS). */
export function astr(value: string): ImapValue {
  return /^[A-Za-z0-9!#$&'+,\-./:;<=>?@^_`|~]+$/u.test(value) && value.toUpperCase() !== 'NIL' ? value : str(value);
}

/**
 * Collects a reply's wire form: text (atoms, numbers, quoted strings: all latin1) as one
 * growing string, cut into a Buffer only where a literal's octets go in. A FETCH batch of
 * hundreds of responses is then one string and one Buffer, not thousands of small ones.
 */
class WireWriter {
  private readonly parts: Buffer[] = [];
  private text = '';

  add(text: string): void {
    this.text += text;
  }

  addBytes(data: Buffer): void {
    this.flush();
    this.parts.push(data);
  }

  /** Status and continuation text may be UTF-8 (human-readable text): its own encoding. */
  addUtf8(text: string): void {
    this.flush();
    this.parts.push(Buffer.from(text, 'utf8'));
  }

  /** The text written so far when no bytes (literals) were added; undefined otherwise. */
  textOnly(): string | undefined {
    return this.parts.length === 0 ? this.text : undefined;
  }

  finish(): Buffer {
    this.flush();
    return this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
  }

  private flush(): void {
    if (this.text === '') return;
    this.parts.push(Buffer.from(this.text, 'latin1'));
    this.text = '';
  }
}

function encodeValue(value: ImapValue, out: WireWriter): void {
  if (value === null) out.add('NIL');
  else if (typeof value === 'number') out.add(String(value));
  else if (typeof value === 'string') out.add(value);
  else if (Array.isArray(value)) {
    out.add('(');
    value.forEach((item: ImapValue, i: number) => {
      if (i > 0) out.add(' ');
      encodeValue(item, out);
    });
    out.add(')');
  } else if ('concat' in value) {
    for (const item of (value as Concat).concat) encodeValue(item, out);
  } else if ('quoted' in value) {
    out.add(`"${(value as Quoted).quoted.replace(/["\\]/gu, '\\$&')}"`);
  } else {
    const data = (value as Literal).literal;
    out.add(`{${data.length}}\r\n`);
    out.addBytes(data);
  }
}

function encodeInto(response: Response, out: WireWriter): void {
  if (response.kind === 'continuation') {
    out.addUtf8(`+ ${response.text}\r\n`);
  } else if (response.kind === 'status') {
    const code = response.code === undefined ? '' : `[${response.code}] `;
    out.addUtf8(`${response.tag ?? '*'} ${response.status} ${code}${response.text}\r\n`);
  } else {
    out.add('* ');
    response.values.forEach((value, i) => {
      if (i > 0) out.add(' ');
      encodeValue(value, out);
    });
    out.add('\r\n');
  }
}

/**
 * A value's wire form as an atom string, ready to be written as is, when it holds no
 * literal (an ENVELOPE of plain headers): cached values are then encoded once, not at
 * every FETCH. A value with a literal is returned unchanged.
 */
export function preEncoded(value: ImapValue): ImapValue {
  const out = new WireWriter();
  encodeValue(value, out);
  const text = out.textOnly();
  // Stored flat: a string grown with += is a rope of its pieces, and every FETCH that wrote
  // it would walk the rope again when the batch becomes a Buffer (FETCH 1:* ENVELOPE of
  // 2000 cached envelopes took 4 to 5 times as long, bench/FINDINGS.md).
  return text === undefined ? value : Buffer.from(text, 'latin1').toString('latin1');
}

export function encodeResponse(response: Response): Buffer {
  return encodeResponses([response]);
}

/** Several replies as one Buffer, in order (what the session writes at once). */
export function encodeResponses(responses: readonly Response[]): Buffer {
  const out = new WireWriter();
  for (const response of responses) encodeInto(response, out);
  return out.finish();
}
