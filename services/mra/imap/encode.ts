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

function encodeValue(value: ImapValue, out: Buffer[]): void {
  if (value === null) out.push(Buffer.from('NIL'));
  else if (typeof value === 'number') out.push(Buffer.from(String(value)));
  else if (typeof value === 'string') out.push(Buffer.from(value, 'latin1'));
  else if (Array.isArray(value)) {
    out.push(Buffer.from('('));
    value.forEach((item: ImapValue, i: number) => {
      if (i > 0) out.push(Buffer.from(' '));
      encodeValue(item, out);
    });
    out.push(Buffer.from(')'));
  } else if ('concat' in value) {
    for (const item of (value as Concat).concat) encodeValue(item, out);
  } else if ('quoted' in value) {
    out.push(Buffer.from(`"${(value as Quoted).quoted.replace(/["\\]/gu, '\\$&')}"`, 'latin1'));
  } else {
    const data = (value as Literal).literal;
    out.push(Buffer.from(`{${data.length}}\r\n`), data);
  }
}

export function encodeResponse(response: Response): Buffer {
  const out: Buffer[] = [];
  if (response.kind === 'continuation') {
    out.push(Buffer.from(`+ ${response.text}\r\n`));
  } else if (response.kind === 'status') {
    const code = response.code === undefined ? '' : `[${response.code}] `;
    out.push(Buffer.from(`${response.tag ?? '*'} ${response.status} ${code}${response.text}\r\n`, 'utf8'));
  } else {
    out.push(Buffer.from('* '));
    response.values.forEach((value, i) => {
      if (i > 0) out.push(Buffer.from(' '));
      encodeValue(value, out);
    });
    out.push(Buffer.from('\r\n'));
  }
  return Buffer.concat(out);
}
