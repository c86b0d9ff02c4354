/**
 * The results: the headline figures next to the targets and the Postfix + Dovecot
 * reference, a detail list per scenario, as a printed table and as JSON.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FlowResult } from '../scenarios/smtp-flow.ts';
import type { ImapLoadResult } from '../scenarios/imap-load.ts';
import type { Pop3LoadResult } from '../scenarios/pop3-load.ts';
import type { Paired, ParityResult } from '../scenarios/parity.ts';
import type { GreetingResult, Pop3UserResult } from '../scenarios/parity-probes.ts';
import type { ScaleResult } from '../scenarios/scale.ts';
import type { LabStartResult } from '../scenarios/lab-start.ts';
import type { RunContext } from './machine.ts';
import type { BenchOptions, Scenario } from './options.ts';
import { FIGURES, meets, REFERENCE_STACK, type Figure } from './reference.ts';

export interface ScenarioResults {
  ingest?: FlowResult;
  submission?: FlowResult;
  imap?: ImapLoadResult;
  pop3?: Pop3LoadResult;
  scale?: ScaleResult;
  parity?: ParityResult;
  labstart?: LabStartResult | undefined;
}

export interface MeasuredFigure extends Figure {
  value: number | undefined;
  meetsTarget: boolean | undefined;
}

export interface BenchReport {
  context: RunContext;
  target: 'lab' | 'compose';
  options: Omit<BenchOptions, 'help' | 'ca'>;
  referenceStack: string;
  figures: MeasuredFigure[];
  results: ScenarioResults;
  failures: Partial<Record<Scenario, string>>;
}

function lookup(results: ScenarioResults, key: string): number | undefined {
  const [scenario, field] = key.split('.') as [keyof ScenarioResults, string];
  const value = (results[scenario] as Record<string, unknown> | undefined)?.[field];
  return typeof value === 'number' ? value : undefined;
}

export function measuredFigures(results: ScenarioResults): MeasuredFigure[] {
  return FIGURES.map((figure) => {
    const value = lookup(results, figure.key);
    return { ...figure, value, meetsTarget: value === undefined ? undefined : meets(figure, value) };
  });
}

export function formatNumber(value: number | undefined, unit?: string): string {
  if (value === undefined || !Number.isFinite(value)) return '—';
  // Ratios: 0.97 is not 1.
  if (unit === '×') return value.toFixed(2);
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : String(Math.round(value * 10) / 10);
}

function targetText(figure: Figure): string {
  if (figure.target === undefined) return '—';
  return `${figure.higherIsBetter ? '≥' : '<'} ${formatNumber(figure.target)} ${figure.unit}`;
}

function verdict(figure: MeasuredFigure): string {
  if (figure.value === undefined) return 'not run';
  return figure.meetsTarget === undefined ? '' : figure.meetsTarget ? 'meets' : 'SHORT';
}

export function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length)));
  return rows.map((row) => row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

function memoryText(peaks: Record<string, number>): string {
  return Object.entries(peaks)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([agent, mb]) => `${agent} ${formatNumber(mb)}`)
    .join(', ');
}

/** Secondary figures per scenario, as label/value pairs. */
export function details(results: ScenarioResults): [string, string][] {
  const rows: [string, string][] = [];
  for (const kind of ['ingest', 'submission'] as const) {
    const flow = results[kind];
    if (!flow) continue;
    rows.push(
      [`${kind}: delivered / failed / junked`, `${flow.accepted} / ${flow.failed} / ${flow.junked} of ${flow.messages}, ${flow.sessions} sessions`],
      [`${kind}: accepted by the entry MTA`, `${formatNumber(flow.acceptedPerSecond)} msg/s`],
      [`${kind}: accept latency p50 / p99`, `${formatNumber(flow.accept.p50Ms)} / ${formatNumber(flow.accept.p99Ms)} ms`],
      [`${kind}: all in Maildir / visible over IMAP`, `${formatNumber(flow.maildirMs)} / ${formatNumber(flow.elapsedMs)} ms`],
      [`${kind}: peak RSS MB${flow.peaksPerScenario ? '' : ' (since start)'}`, memoryText(flow.peakRssMb)],
    );
    if (flow.errors.length > 0) rows.push([`${kind}: first errors`, flow.errors.join(' | ')]);
  }
  const imap = results.imap;
  if (imap) {
    rows.push(
      ['imap: mailbox / clients / seconds', `${imap.mailboxMessages} messages, ${imap.clients} clients, ${imap.seconds} s, ${imap.loops} loops`],
      ['imap: all commands p50 / p99', `${formatNumber(imap.all.p50Ms)} / ${formatNumber(imap.all.p99Ms)} ms (${imap.commands} commands)`],
    );
    for (const [kind, summary] of Object.entries(imap.byCommand)) {
      rows.push([`imap: ${kind} p50 / p99`, `${formatNumber(summary.p50Ms)} / ${formatNumber(summary.p99Ms)} ms (${summary.count})`]);
    }
    rows.push(['imap: body throughput', `${formatNumber(imap.bodyMegabytesPerSecond)} MB/s`], ['imap: peak RSS MB', memoryText(imap.peakRssMb)]);
    if (imap.errors.length > 0) rows.push(['imap: errors', imap.errors.join(' | ')]);
  }
  const pop3 = results.pop3;
  if (pop3) {
    rows.push(
      ['pop3: sessions / messages', `${pop3.sessions} sessions, ${pop3.messages} messages, ${formatNumber(pop3.megabytes)} MB in ${formatNumber(pop3.elapsedMs)} ms${pop3.pipelined ? ', RETR pipelined' : ''}`],
      ['pop3: peak RSS MB', memoryText(pop3.peakRssMb)],
    );
  }
  const scale = results.scale;
  if (scale) {
    rows.push(
      ['scale: generated', `${scale.messages} messages in ${formatNumber(scale.generateMs)} ms`],
      ['scale: SELECT first / second', `${formatNumber(scale.selectColdMs)} / ${formatNumber(scale.selectWarmMs)} ms (${scale.exists} EXISTS)`],
      ['scale: FETCH 1:* (UID FLAGS)', `${formatNumber(scale.fetchUidFlagsMs)} ms (${scale.fetchedLines} responses)`],
      ['scale: MRA RSS / peak MB', `${formatNumber(scale.mraRssMb)} / ${formatNumber(scale.mraPeakMb)}`],
      ['scale: POP3 login+STAT / UIDL', `${formatNumber(scale.pop3LoginStatMs)} / ${formatNumber(scale.pop3UidlMs)} ms (${scale.pop3StatCount} messages, ${scale.pop3UidlLines} UIDs)`],
      ['scale: MRA RSS / peak MB, POP3 session open too', `${formatNumber(scale.mraRssAfterPop3Mb)} / ${formatNumber(scale.mraPeakAfterPop3Mb)}`],
    );
  }
  const parity = results.parity;
  if (parity) rows.push(...parityRows(parity));
  const labstart = results.labstart;
  if (labstart) {
    rows.push(
      ['labstart: start() to serving, each run', `${labstart.runsMs.map((ms) => formatNumber(ms)).join(' / ')} ms`],
      ['labstart: first message alice → bob / warm reset()', `${formatNumber(labstart.firstMessageMs)} / ${formatNumber(labstart.resetMs)} ms`],
    );
  }
  return rows;
}

function pairText<T extends { load: number }>(pair: Paired<T>, show: (result: T) => string): string {
  const side = (result: T) => `${show(result)} (load ${result.load})`;
  const theirs = pair.reference ? `; reference ${side(pair.reference)}; ratio ${formatNumber(pair.ratio, '×')}` : '';
  return `mxlab ${side(pair.mxlab)}${theirs}`;
}

function greetingText(result: GreetingResult): string {
  return `${formatNumber(result.after.p50Ms)} / ${formatNumber(result.after.p99Ms)} ms over ${result.connections - 1} after the first (${formatNumber(result.firstMs)} ms)`;
}

function parityRows(parity: ParityResult): [string, string][] {
  const pop3 = (r: Pop3UserResult) => `${formatNumber(r.messagesPerSecond)} msg/s, ${r.refused} refused, ${r.errors.length} errors, login p50 ${formatNumber(r.loginMs.p50Ms)} ms`;
  return [
    ['parity: reference', parity.reference],
    ['parity: greeting, cold (first 30 after a start), p50 / p99', pairText(parity.greetingCold, greetingText)],
    ['parity: greeting, server in use (after smtp-source), p50 / p99', pairText(parity.greeting, greetingText)],
    ['parity: SMTP one message per connection', pairText(parity.smtpPerConnection, (r) => `${formatNumber(r.messagesPerSecond)} msg/s to IMAP, ${formatNumber(r.acceptedPerSecond)} accepted/s (${r.tool})`)],
    ['parity: POP3 first session of new mail (\\Seen at QUIT)', pairText(parity.pop3FirstSession, pop3)],
    ['parity: POP3 one session, early (right after the first)', pairText(parity.pop3OneSessionEarly, pop3)],
    ['parity: POP3 one session, server in use (after 8 sessions)', pairText(parity.pop3OneSession, pop3)],
    ['parity: POP3 8 sessions of one user', pairText(parity.pop3EightSessions, pop3)],
    ['parity: FETCH 1:* ENVELOPE, 8 clients, p50 / p99', pairText(parity.fetchEnvelope, (r) => `${formatNumber(r.latency.p50Ms)} / ${formatNumber(r.latency.p99Ms)} ms`)],
  ];
}

export function renderText(report: BenchReport): string {
  const { context } = report;
  const head = [['figure', 'measured', 'target', '', `reference: ${REFERENCE_STACK.split(',')[0]}`]];
  const figureRows = report.figures.map((figure) => [
    figure.label,
    `${formatNumber(figure.value, figure.unit)} ${figure.unit}`,
    targetText(figure),
    verdict(figure),
    figure.reference,
  ]);
  const failures = Object.entries(report.failures).map(([scenario, message]) => `  ${scenario} failed: ${message}`);
  return [
    `mxlab bench — ${context.date}, commit ${context.commit.slice(0, 12)}${context.dirty ? ' (dirty)' : ''}, Node ${context.node}, target ${report.target}`,
    `machine: ${context.machine.cores} cores, ${context.machine.memoryGb} GB, ${context.machine.cpuModel}; ` +
      `load average ${context.loadAverage.start} at start, ${context.loadAverage.end} at end`,
    '',
    table([...head, ...figureRows]),
    '',
    table(details(report.results).map(([label, value]) => [label, value])),
    ...(failures.length > 0 ? ['', ...failures] : []),
  ].join('\n');
}

/** Writes `<dir>/<date>.json` and `<dir>/latest.json`; returns the dated path. */
export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  await mkdir(dir, { recursive: true });
  const text = `${JSON.stringify(report, (_, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
  const dated = join(dir, `${report.context.date.replace(/[:.]/gu, '-')}.json`);
  await writeFile(dated, text);
  await writeFile(join(dir, 'latest.json'), text);
  return dated;
}
