/**
 * IMAP mailbox names ↔ Maildir++ folders. `INBOX` is the root itself; any other name
 * `A.B` is the folder `.A.B` directly under the root (the hierarchy delimiter is `.`).
 * Names travel as given by the client (modified UTF-7, RFC 3501 §5.1.3), which keeps
 * them ASCII on disk as Dovecot and Courier do. Nothing can name a path outside the root.
 */
import { FOLDER_DELIMITER, folderOfEntry, STANDARD_FOLDERS as MAILDIR_STANDARD_FOLDERS } from '../../../shared/maildir/layout.ts';
import type { SpecialUse } from './types.ts';

export { folderPath } from '../../../shared/maildir/layout.ts';

/** IMAP names use the Maildir++ delimiter, so a name is its folder's directory without the dot. */
export const HIERARCHY_DELIMITER = FOLDER_DELIMITER;
/** Longest name accepted; well within NAME_MAX (255) with the leading dot. */
export const MAX_MAILBOX_NAME_OCTETS = 200;

/** RFC 6154 special use of each standard folder (the folder name is the attribute's word). */
export const STANDARD_FOLDERS: ReadonlyArray<readonly [string, SpecialUse]> = MAILDIR_STANDARD_FOLDERS.map((name) => [name, `\\${name}`] as const);

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** Normalizes `inbox` to `INBOX` and refuses anything that is not a safe folder name. */
export function checkMailboxName(raw: string): NameCheck {
  if (raw.toUpperCase() === 'INBOX') return { ok: true, name: 'INBOX' };
  if (raw === '') return { ok: false, reason: 'empty mailbox name' };
  if (Buffer.byteLength(raw) > MAX_MAILBOX_NAME_OCTETS) return { ok: false, reason: 'mailbox name too long' };
  if (/[\u0000-\u001f\u007f]/u.test(raw)) return { ok: false, reason: 'control character in mailbox name' };
  if (/[/\\]/u.test(raw)) return { ok: false, reason: 'path separator in mailbox name' };
  if (/[*%]/u.test(raw)) return { ok: false, reason: 'wildcard in mailbox name' };
  if (/[^\u0020-\u007e]/u.test(raw)) return { ok: false, reason: 'mailbox names must be modified UTF-7 (RFC 3501 §5.1.3)' };
  if (raw.startsWith('~')) return { ok: false, reason: 'mailbox name may not start with ~' };
  if (raw.includes('&') && !isModifiedUtf7(raw)) return { ok: false, reason: 'mailbox name is not valid modified UTF-7 (RFC 3501 §5.1.3; & is written &-)' };
  const parts = raw.split(HIERARCHY_DELIMITER);
  if (parts.some((part) => part === '')) return { ok: false, reason: 'empty hierarchy level (leading, trailing or double dot)' };
  if (parts[0]?.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return { ok: true, name: parts.join(HIERARCHY_DELIMITER) };
}

const MODIFIED_BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';

/**
 * RFC 3501 §5.1.3: `&` starts modified BASE64 of UTF-16 ended by `-` (`&-` is `&`); the
 * shift holds whole 16-bit units with zero padding, valid surrogate pairs, and no
 * printable ASCII (which must stand for itself). Names must round-trip, so others are refused.
 */
export function isModifiedUtf7(name: string): boolean {
  for (let i = name.indexOf('&'); i !== -1; i = name.indexOf('&', i)) {
    const end = name.indexOf('-', i + 1);
    if (end === -1) return false;
    const encoded = name.slice(i + 1, end);
    i = end + 1;
    if (encoded === '') continue;
    let bits = 0;
    let buffer = 0;
    const units: number[] = [];
    for (const char of encoded) {
      const value = MODIFIED_BASE64.indexOf(char);
      if (value === -1) return false;
      buffer = ((buffer << 6) | value) & 0xffffff;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        units.push((buffer >> bits) & 0xffff);
      }
    }
    if (bits >= 6 || (buffer & ((1 << bits) - 1)) !== 0 || units.length === 0) return false;
    for (let u = 0; u < units.length; u += 1) {
      const unit = units[u] ?? 0;
      if (unit >= 0x20 && unit <= 0x7e) return false;
      if (unit >= 0xd800 && unit <= 0xdbff) {
        const low = units[u + 1] ?? 0;
        if (low < 0xdc00 || low > 0xdfff) return false;
        u += 1;
      } else if (unit >= 0xdc00 && unit <= 0xdfff) {
        return false;
      }
    }
  }
  return true;
}

/** Folder directory entry (`.Sent`) → IMAP name, or undefined for other entries. */
export function nameFromEntry(entry: string): string | undefined {
  const folder = folderOfEntry(entry);
  if (folder === undefined) return undefined;
  const check = checkMailboxName(folder);
  return check.ok && check.name !== 'INBOX' ? check.name : undefined;
}

export function specialUseOf(name: string): SpecialUse | undefined {
  return STANDARD_FOLDERS.find(([folder]) => folder === name)?.[1];
}

/**
 * RFC 3501 §6.3.8 LIST pattern: `*` matches anything, `%` anything but the delimiter.
 * Matching is case-sensitive except for INBOX.
 */
export function patternToRegExp(reference: string, pattern: string): RegExp {
  const full = reference + pattern;
  let source = '';
  for (const char of full) {
    if (char === '*') source += '.*';
    else if (char === '%') source += '[^.]*';
    else source += char.replace(/[\\^$.*+?()[\]{}|]/gu, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

export function matchesPattern(name: string, regexp: RegExp): boolean {
  if (regexp.test(name)) return true;
  if (name === 'INBOX' || name.startsWith('INBOX.')) {
    return regexp.flags.includes('i') ? false : new RegExp(regexp.source, 'isu').test(name) && /^inbox/iu.test(name);
  }
  return false;
}
