/**
 * From engine results to one verdict (issue 6 item 4): virus → reject 554 5.7.1; a scan
 * limit hit (issue 19: what cannot be scanned fully is not clean) → reject 554 5.7.0; an
 * engine that failed or timed out → tempfail 451 4.7.1; spam at or over the reject
 * score → reject 550 5.7.1; at or over the tag score → tag; otherwise accept. Every
 * verdict carries the X-Virus-* and X-Spam-* headers the MTA prepends.
 */
import type { EngineResult, RuleHit, ScanRequest, ScanVerdict } from '../../shared/caller-api.ts';
import { roundScore } from './engines/builtin-spam.ts';
import { LIMIT_ALERT_PREFIX } from './engines/eicar.ts';

export const SCANNER_NAME = 'mxlab-caller';

/** Enhanced status codes (RFC 3463) of the verdicts. */
export const VERDICT_REPLIES = {
  virus: { code: 554, enhanced: '5.7.1' },
  /** A scan limit hit (ClamAV's AlertExceedsMax): the message cannot be scanned fully. */
  unscannable: { code: 554, enhanced: '5.7.0' },
  spam: { code: 550, enhanced: '5.7.1' },
  tempfail: { code: 451, enhanced: '4.7.1' },
} as const;

/** Header lines are folded near this width (RFC 5322 §2.1.1 recommends 78). */
const FOLD_WIDTH = 76;

export interface MergedSpam {
  score: number;
  rules: RuleHit[];
}

/**
 * One score over all spam engines: real engines first, and a built-in rule that a real
 * engine also reported (same name) counts once, with the real engine's score.
 */
export function mergeSpam(results: EngineResult[]): MergedSpam {
  const scored = results
    .filter((result) => result.kind === 'spam' && result.status === 'scored')
    .sort((a, b) => Number(a.engine.startsWith('builtin-')) - Number(b.engine.startsWith('builtin-')));
  const seen = new Map<string, RuleHit>();
  let score = 0;
  for (const result of scored) {
    const duplicates = result.rules.filter((rule) => seen.has(rule.name));
    score += (result.score ?? 0) - duplicates.reduce((sum, rule) => sum + rule.score, 0);
    for (const rule of result.rules) if (!seen.has(rule.name)) seen.set(rule.name, rule);
  }
  return { score: roundScore(score), rules: [...seen.values()] };
}

export function buildVerdict(policy: ScanRequest['policy'], results: EngineResult[], elapsedMs: number): ScanVerdict {
  const found = [...new Set(results.flatMap((result) => (result.kind === 'virus' ? result.viruses : [])))];
  const limitAlerts = found.filter(isLimitAlert);
  const virusNames = found.filter((name) => !isLimitAlert(name));
  const failed = results.filter((result) => result.status === 'error' || result.status === 'timeout');
  const spam = mergeSpam(results);
  const isSpam = spam.score >= policy.tagScore;
  const headers = verdictHeaders(results, spam, virusNames, limitAlerts, isSpam, policy.tagScore);
  const base = {
    version: 1 as const,
    headers,
    spam: { score: spam.score, tagScore: policy.tagScore, rejectScore: policy.rejectScore, isSpam },
    virus: { infected: virusNames.length > 0, names: virusNames },
    engines: results,
    elapsedMs,
  };
  if (virusNames.length > 0) {
    return { ...base, action: 'reject', smtp: { ...VERDICT_REPLIES.virus, message: `Message rejected: virus found (${virusNames.join(', ')})` } };
  }
  if (limitAlerts.length > 0) {
    const where = results.filter((result) => result.kind === 'virus' && result.viruses.some(isLimitAlert)).map((result) => result.detail ?? result.engine);
    return {
      ...base,
      action: 'reject',
      smtp: { ...VERDICT_REPLIES.unscannable, message: replyText(`Message rejected: it cannot be scanned fully (${limitAlerts.join(', ')}: ${where.join('; ')})`) },
    };
  }
  if (failed.length > 0) {
    const why = failed.map((result) => `${result.engine} ${result.status}`).join(', ');
    return { ...base, action: 'tempfail', smtp: { ...VERDICT_REPLIES.tempfail, message: `Content scan temporarily unavailable (${why}), try again later` } };
  }
  if (policy.rejectScore !== null && spam.score >= policy.rejectScore) {
    return {
      ...base,
      action: 'reject',
      smtp: { ...VERDICT_REPLIES.spam, message: `Message rejected as spam (score ${formatScore(spam.score)}, reject at ${formatScore(policy.rejectScore)})` },
    };
  }
  return { ...base, action: isSpam ? 'tag' : 'accept' };
}

/** Part names come from the message: printable ASCII only, and short (RFC 5321 §4.5.3.1.5: 512-octet reply lines). */
const MAX_REPLY_TEXT = 300;
function replyText(text: string): string {
  const printable = text.replace(/[^\x20-\x7e]/gu, '?');
  return printable.length > MAX_REPLY_TEXT ? `${printable.slice(0, MAX_REPLY_TEXT - 3)}...` : printable;
}

export function formatScore(score: number): string {
  return score.toFixed(1);
}

/** ClamAV's name for what its limits left unscanned (AlertExceedsMax), from clamd or the built-in engine. */
export function isLimitAlert(name: string): boolean {
  return name.startsWith(LIMIT_ALERT_PREFIX);
}

function virusStatus(virusNames: string[], limitAlerts: string[]): string {
  if (virusNames.length > 0) return `Infected (${virusNames.join(', ')})`;
  if (limitAlerts.length > 0) return `Unscanned (${limitAlerts.join(', ')})`;
  return 'Clean';
}

function verdictHeaders(results: EngineResult[], spam: MergedSpam, virusNames: string[], limitAlerts: string[], isSpam: boolean, tagScore: number): ScanVerdict['headers'] {
  const virusEngines = results.filter((result) => result.kind === 'virus').map((result) => result.engine);
  const spamEngines = results.filter((result) => result.kind === 'spam').map((result) => result.engine);
  const tests = spam.rules.map((rule) => rule.name).sort();
  const status = `${isSpam ? 'Yes' : 'No'}, score=${formatScore(spam.score)} required=${formatScore(tagScore)} tests=${tests.length === 0 ? 'none' : tests.join(',')}`;
  const headers: ScanVerdict['headers'] = [
    { name: 'X-Virus-Scanned', value: `${SCANNER_NAME} (${virusEngines.join(', ') || 'no engine'})` },
    { name: 'X-Virus-Status', value: fold(virusStatus(virusNames, limitAlerts), 'X-Virus-Status: '.length) },
  ];
  if (isSpam) {
    headers.push({ name: 'X-Spam-Flag', value: 'YES' }, { name: 'X-Spam-Score', value: formatScore(spam.score) });
  }
  headers.push(
    { name: 'X-Spam-Status', value: fold(status, 'X-Spam-Status: '.length) },
    { name: 'X-Spam-Checker-Version', value: `${SCANNER_NAME} (${spamEngines.join(', ') || 'no engine'})` },
  );
  return headers;
}

/** Folds at commas and spaces; continuation lines start with a tab (RFC 5322 §2.2.3). */
export function fold(value: string, firstLineUsed: number): string {
  const lines: string[] = [];
  let line = '';
  let width = FOLD_WIDTH - firstLineUsed;
  for (const piece of value.match(/[^ ,]+,? ?/g) ?? []) {
    if (line !== '' && line.length + piece.length > width) {
      lines.push(line.trimEnd());
      line = '';
      width = FOLD_WIDTH - 1;
    }
    line += piece;
  }
  lines.push(line.trimEnd());
  return lines.join('\n\t');
}
