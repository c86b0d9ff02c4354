/**
 * Maildir file names (https://cr.yp.to/proto/maildir.html, Courier's Maildir++ and
 * Dovecot's conventions): `<base>[:2,<info>]`, where the base is the unique name written
 * by the delivery agent and never changes, and the info letters are the flags:
 * D draft, F flagged, P passed, R replied, S seen, T trashed; `a`..`z` are keywords
 * numbered in the folder's `dovecot-keywords` file.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';

export const INFO_SEPARATOR = ':2,';
/** Dovecot keeps at most 26 keyword letters per folder. */
export const MAX_KEYWORDS = 26;

const SYSTEM_LETTERS: ReadonlyArray<readonly [string, string]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];

export interface ParsedName {
  base: string;
  /** Info letters after `:2,` (empty when none). */
  info: string;
  /** `,S=<octets>` when the deliverer recorded the size. */
  size: number | undefined;
  /** Seconds before the first dot, when the base starts with a timestamp. */
  seconds: number | undefined;
}

export function parseFileName(name: string): ParsedName {
  const colon = name.indexOf(INFO_SEPARATOR);
  const base = colon === -1 ? name : name.slice(0, colon);
  const info = colon === -1 ? '' : name.slice(colon + INFO_SEPARATOR.length);
  const sizeMatch = /,S=(\d+)/u.exec(base);
  const secondsMatch = /^(\d{9,11})\./u.exec(base);
  return {
    base,
    info,
    size: sizeMatch ? Number(sizeMatch[1]) : undefined,
    seconds: secondsMatch ? Number(secondsMatch[1]) : undefined,
  };
}

/** Info letters → IMAP flags, with keywords looked up by letter index. */
export function infoToFlags(info: string, keywords: readonly string[]): string[] {
  const flags: string[] = [];
  for (const [letter, flag] of SYSTEM_LETTERS) if (info.includes(letter)) flags.push(flag);
  for (const char of info) {
    const code = char.charCodeAt(0) - 97;
    if (code >= 0 && code < MAX_KEYWORDS) {
      const keyword = keywords[code];
      if (keyword !== undefined) flags.push(keyword);
    }
  }
  return flags;
}

/**
 * IMAP flags → info letters (sorted, as the Maildir spec asks). Letters this server does
 * not map (`P`) are kept from `previous`. Returns undefined when a keyword has no letter left.
 */
export function flagsToInfo(flags: readonly string[], keywords: string[], previous = ''): string {
  const letters = new Set<string>();
  for (const char of previous) if (char === 'P') letters.add(char);
  const lower = flags.map((flag) => flag.toLowerCase());
  for (const [letter, flag] of SYSTEM_LETTERS) if (lower.includes(flag.toLowerCase())) letters.add(letter);
  for (const flag of flags) {
    if (flag.startsWith('\\')) continue;
    let index = keywords.findIndex((keyword) => keyword.toLowerCase() === flag.toLowerCase());
    if (index === -1) {
      if (keywords.length >= MAX_KEYWORDS) continue;
      keywords.push(flag);
      index = keywords.length - 1;
    }
    letters.add(String.fromCharCode(97 + index));
  }
  return [...letters].sort().join('');
}

let deliveries = 0;

/** A unique base name in the MDA's style: `<secs>.M<usecs>P<pid>Q<n>R<rand>.<host>,S=<size>`. */
export function uniqueBaseName(size: number, now = Date.now()): string {
  deliveries += 1;
  const seconds = Math.floor(now / 1000);
  const micros = (now % 1000) * 1000 + Math.floor(Math.random() * 1000);
  const host = hostname().replace(/[/:]/gu, '_');
  return `${seconds}.M${micros}P${process.pid}Q${deliveries}R${randomBytes(8).toString('hex')}.${host},S=${size}`;
}

export function fileName(base: string, info: string): string {
  return `${base}${INFO_SEPARATOR}${info}`;
}
