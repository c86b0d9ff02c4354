/**
 * Info letters ↔ IMAP flags, as Dovecot keeps them in Maildir: D draft, F flagged,
 * P passed, R replied, S seen, T trashed; `a`..`z` are keywords numbered in the
 * folder's `dovecot-keywords` file.
 */

/** Dovecot keeps at most 26 keyword letters per folder. */
export const MAX_KEYWORDS = 26;

const SYSTEM_LETTERS: ReadonlyArray<readonly [string, string]> = [
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
];

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
 * not map (`P`) are kept from `previous`. A keyword without a letter left is dropped.
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
