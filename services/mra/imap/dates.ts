/** RFC 3501 §9 date and date-time forms: `1-Feb-1994` and `17-Jul-1996 02:44:25 -0700`. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function month(name: string): number {
  return MONTHS.findIndex((item) => item.toLowerCase() === name.toLowerCase());
}

/** `date` of SEARCH: a calendar day, as a UTC midnight timestamp (the server's zone is UTC). */
export function parseSearchDate(text: string): number | undefined {
  const match = /^"?(\d{1,2})-([A-Za-z]{3})-(\d{4})"?$/u.exec(text);
  if (!match) return undefined;
  const m = month(match[2] ?? '');
  if (m === -1) return undefined;
  const value = Date.UTC(Number(match[3]), m, Number(match[1]));
  return new Date(value).getUTCDate() === Number(match[1]) ? value : undefined;
}

/** `date-time` of APPEND. */
export function parseDateTime(text: string): Date | undefined {
  const match = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/u.exec(text);
  if (!match) return undefined;
  const m = month(match[2] ?? '');
  if (m === -1) return undefined;
  const offset = (Number(match[8]) * 60 + Number(match[9])) * (match[7] === '-' ? -1 : 1);
  const utc = Date.UTC(Number(match[3]), m, Number(match[1]), Number(match[4]), Number(match[5]), Number(match[6])) - offset * 60_000;
  return Number.isNaN(utc) ? undefined : new Date(utc);
}

/** INTERNALDATE in UTC: `" 7-Feb-2026 10:00:00 +0000"` text without the quotes. */
export function formatDateTime(date: Date): string {
  const day = String(date.getUTCDate()).padStart(2, ' ');
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/**
 * The calendar day of a Date: header as written, for SENTBEFORE/SENTON/SENTSINCE, which
 * disregard time and timezone (RFC 3501 §6.4.4): `Mon, 1 Jan 2024 23:30:00 -0500` is
 * 1 January, not 2 January in UTC. Obsolete two-digit years follow RFC 5322 §4.3.
 */
export function sentDay(value: string): number | undefined {
  const match = /(?:^|[\s,])(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2,4})(?=\s|$)/u.exec(value);
  const m = match ? month(match[2] ?? '') : -1;
  if (match && m !== -1) {
    let year = Number(match[3]);
    if ((match[3] ?? '').length === 2) year += year < 50 ? 2000 : 1900;
    else if ((match[3] ?? '').length === 3) year += 1900;
    const day = Number(match[1]);
    const ms = Date.UTC(year, m, day);
    if (new Date(ms).getUTCDate() === day) return ms;
  }
  const parsed = Date.parse(value);
  return Number.isNaN(parsed) ? undefined : dayOf(parsed);
}

/** Day (UTC midnight) of a timestamp, for SEARCH BEFORE/ON/SINCE which ignore time and zone. */
export function dayOf(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}
