/**
 * spamd client, SPAMC/1.5 (SpamAssassin's spamd/PROTOCOL): `REPORT` (rule table with
 * scores and descriptions) or `SYMBOLS` (rule names only), with a Content-length header.
 * The reply header `Spam: True ; 1003.3 / 5.0` carries the score and spamd's threshold.
 */
import type { RuleHit } from '../../../shared/caller-api.ts';
import type { HostPort } from '../../../shared/config.ts';
import { EngineError, type Engine, type EngineOutcome, type ScanInput } from './engine.ts';
import { tcpExchange } from './tcp-exchange.ts';

/** spamc's default -s: larger messages are not sent to spamd (it would only be slow). */
export const MAX_SPAMD_MESSAGE_BYTES = 500 * 1024;

export type SpamdCommand = 'REPORT' | 'SYMBOLS';

export interface SpamdReply {
  isSpam: boolean;
  score: number;
  threshold: number;
  rules: RuleHit[];
}

export function spamdRequest(command: SpamdCommand, message: Buffer): Buffer[] {
  return [Buffer.from(`${command} SPAMC/1.5\r\nContent-length: ${message.length}\r\n\r\n`, 'latin1'), message];
}

/** Parses a whole spamd reply; a non-zero status line is an EngineError. */
export function parseSpamdReply(reply: string, command: SpamdCommand): SpamdReply {
  const split = reply.indexOf('\r\n\r\n');
  const head = split === -1 ? reply : reply.slice(0, split);
  const body = split === -1 ? '' : reply.slice(split + 4);
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const status = /^SPAMD\/\d+\.\d+ (\d+) (.*)$/.exec(statusLine);
  if (status === null) throw new EngineError(`spamd: unexpected reply ${JSON.stringify(statusLine.slice(0, 80))}`);
  if (status[1] !== '0') throw new EngineError(`spamd: ${status[1]} ${status[2]}`);
  const spamLine = headerLines.find((line) => /^spam:/i.test(line)) ?? '';
  const spam = /^spam:\s*(true|false|yes|no)\s*;\s*(-?[\d.]+)\s*\/\s*(-?[\d.]+)/i.exec(spamLine);
  if (spam === null) throw new EngineError(`spamd: no Spam: header in the reply`);
  const rules = command === 'REPORT' ? parseReportTable(body) : parseSymbols(body);
  return { isSpam: /^(true|yes)$/i.test(spam[1] ?? ''), score: Number(spam[2]), threshold: Number(spam[3]), rules };
}

function parseSymbols(body: string): RuleHit[] {
  return body
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
    .map((name) => ({ name, score: 0, description: 'SpamAssassin rule (SYMBOLS carries no score)' }));
}

/** The " pts rule name  description" table of a SpamAssassin report. */
export function parseReportTable(body: string): RuleHit[] {
  const lines = body.split(/\r?\n/);
  const start = lines.findIndex((line) => /^-{3,}\s+-{3,}/.test(line));
  const rules: RuleHit[] = [];
  if (start === -1) return rules;
  for (const line of lines.slice(start + 1)) {
    const row = /^\s*(-?\d+(?:\.\d+)?)\s+([A-Za-z0-9_.]+)\s+(.*)$/.exec(line);
    const last = rules[rules.length - 1];
    if (row !== null) {
      rules.push({ name: row[2] ?? '', score: Number(row[1]), description: (row[3] ?? '').trim() });
    } else if (/^\s{6,}\S/.test(line) && last !== undefined) {
      last.description = `${last.description} ${line.trim()}`.trim();
    } else if (line.trim() === '') {
      continue;
    } else {
      break;
    }
  }
  return rules;
}

export async function spamdCheck(address: HostPort, message: Buffer, command: SpamdCommand, signal: AbortSignal): Promise<SpamdReply> {
  const reply = await tcpExchange({
    peer: `spamd ${address.host}:${address.port}`,
    address,
    request: spamdRequest(command, message),
    endAfterWrite: true,
    signal,
  });
  return parseSpamdReply(reply.toString('utf8'), command);
}

export function createSpamdEngine(address: HostPort, command: SpamdCommand = 'REPORT'): Engine {
  const peer = `spamd ${address.host}:${address.port}`;
  return {
    name: 'spamd',
    kind: 'spam',
    async scan({ message }: ScanInput, signal: AbortSignal): Promise<EngineOutcome> {
      if (message.raw.length > MAX_SPAMD_MESSAGE_BYTES) {
        return { status: 'scored', score: 0, rules: [], detail: `${peer}: not sent, larger than ${MAX_SPAMD_MESSAGE_BYTES} bytes` };
      }
      const reply = await spamdCheck(address, message.raw, command, signal);
      return { status: 'scored', score: reply.score, rules: reply.rules, detail: `${peer}: ${reply.isSpam ? 'spam' : 'ham'} ${reply.score} / ${reply.threshold}` };
    },
  };
}
