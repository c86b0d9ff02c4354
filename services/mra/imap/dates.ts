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

/** Day (UTC midnight) of a timestamp, for SEARCH BEFORE/ON/SINCE which ignore time and zone. */
export function dayOf(ms: number): number {
  const date = new Date(ms);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate());
}
