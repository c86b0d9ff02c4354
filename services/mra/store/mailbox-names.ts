/**
 * IMAP mailbox names ↔ Maildir++ folders. `INBOX` is the root itself; any other name
 * `A.B` is the folder `.A.B` directly under the root (the hierarchy delimiter is `.`).
 * Names travel as given by the client (modified UTF-7, RFC 3501 §5.1.3), which keeps
 * them ASCII on disk as Dovecot and Courier do. Nothing can name a path outside the root.
 */
import { join } from 'node:path';
import type { SpecialUse } from './types.ts';

export const HIERARCHY_DELIMITER = '.';
/** Longest name accepted; well within NAME_MAX (255) with the leading dot. */
export const MAX_MAILBOX_NAME_OCTETS = 200;

export const STANDARD_FOLDERS: ReadonlyArray<readonly [string, SpecialUse]> = [
  ['Sent', '\\Sent'],
  ['Drafts', '\\Drafts'],
  ['Junk', '\\Junk'],
  ['Trash', '\\Trash'],
];

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
  const parts = raw.split(HIERARCHY_DELIMITER);
  if (parts.some((part) => part === '')) return { ok: false, reason: 'empty hierarchy level (leading, trailing or double dot)' };
  if (parts[0]?.toUpperCase() === 'INBOX') parts[0] = 'INBOX';
  return { ok: true, name: parts.join(HIERARCHY_DELIMITER) };
}

/** Directory of a checked name under the user's Maildir++ root. */
export function folderPath(root: string, name: string): string {
  return name === 'INBOX' ? root : join(root, `${HIERARCHY_DELIMITER}${name}`);
}

/** Folder directory entry (`.Sent`) → IMAP name, or undefined for other entries. */
export function nameFromEntry(entry: string): string | undefined {
  if (!entry.startsWith(HIERARCHY_DELIMITER) || entry === '.' || entry === '..') return undefined;
  const check = checkMailboxName(entry.slice(1));
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
