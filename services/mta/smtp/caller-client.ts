/**
 * Client of the caller's HTTP API v1 (shared/caller-api.ts): posts the message with its
 * envelope before DATA is answered, and turns the verdict into what the MTA does with
 * the message. Like a Haraka hook with a timeout, a caller that is down, slow or answers
 * garbage fails soft: 451 4.7.1, or accept unscanned when MTA_CALLER_FAIL_OPEN is set.
 */
import {
  encodeScanRequest,
  SCAN_PATH,
  SCAN_REQUEST_HEADER,
  scanVerdictSchema,
  type ScanRequest,
  type ScanVerdict,
} from '../../../shared/caller-api.ts';
import { REPLIES, type SmtpReply } from './replies.ts';

export interface CallerSettings {
  /** Base URL, e.g. `http://127.28.0.5:8025`. */
  url: string;
  timeoutMs: number;
  failOpen: boolean;
  tagScore: number;
  rejectScore: number | null;
}

export type ScanOutcome = { ok: true; verdict: ScanVerdict } | { ok: false; reason: string };

export async function requestScan(settings: CallerSettings, request: ScanRequest, message: Buffer): Promise<ScanOutcome> {
  let response: Response;
  try {
    response = await fetch(`${settings.url}${SCAN_PATH}`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', [SCAN_REQUEST_HEADER]: encodeScanRequest(request) },
      body: message,
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
  } catch (error) {
    const name = (error as Error).name;
    return { ok: false, reason: name === 'TimeoutError' ? `no verdict within ${settings.timeoutMs} ms` : `caller unreachable: ${(error as Error).message}` };
  }
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    return { ok: false, reason: `caller answered HTTP ${response.status} without JSON` };
  }
  if (!response.ok) return { ok: false, reason: `caller answered HTTP ${response.status}` };
  const verdict = scanVerdictSchema.safeParse(body);
  if (!verdict.success) return { ok: false, reason: 'caller answered an invalid verdict' };
  return { ok: true, verdict: verdict.data };
}

export type ScanDecision =
  | { kind: 'accept'; headers: string[]; scanned: boolean }
  | { kind: 'refuse'; reply: SmtpReply; why: string };

/**
 * The MTA's policy over a verdict (issue 6 item 4): virus → 554 5.7.1; spam at or over
 * the reject score → 550 5.7.1; other rejects use the caller's reply; tempfail, a failed
 * scan or a slow caller → 451 4.7.1 unless fail-open; accept, tag and quarantine → the
 * verdict's headers are prepended.
 */
export function decide(outcome: ScanOutcome, settings: CallerSettings): ScanDecision {
  if (!outcome.ok || outcome.verdict.action === 'tempfail') {
    const why = outcome.ok ? `caller tempfail: ${outcome.verdict.smtp?.message ?? 'no reason given'}` : outcome.reason;
    if (settings.failOpen) return { kind: 'accept', headers: [], scanned: false };
    return { kind: 'refuse', reply: REPLIES.scanUnavailable, why };
  }
  const { verdict } = outcome;
  if (verdict.virus.infected) {
    return { kind: 'refuse', reply: { ...REPLIES.virusFound, text: `${REPLIES.virusFound.text}: ${verdict.virus.names.join(', ') || 'unknown'}` }, why: 'virus' };
  }
  if (settings.rejectScore !== null && verdict.spam.score >= settings.rejectScore) {
    return { kind: 'refuse', reply: { ...REPLIES.spamRejected, text: `${REPLIES.spamRejected.text} (score ${verdict.spam.score})` }, why: 'spam' };
  }
  if (verdict.action === 'reject') {
    const smtp = verdict.smtp;
    const reply = smtp && smtp.code >= 500 && smtp.code <= 599 ? { code: smtp.code, enhanced: smtp.enhanced, text: smtp.message } : REPLIES.spamRejected;
    return { kind: 'refuse', reply, why: 'caller reject' };
  }
  const headers = verdict.headers
    .filter((header) => /^[!-9;-~]+$/u.test(header.name))
    .map((header) => `${header.name}: ${header.value.replace(/\r?\n[ \t]*/gu, '\r\n\t').replace(/\r(?!\n)/gu, '')}`);
  return { kind: 'accept', headers, scanned: true };
}
