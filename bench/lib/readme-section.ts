/** The README's performance section, from the latest report (bench/README-section.md). */
import { details, formatNumber, type BenchReport } from './report.ts';
import { REFERENCE_STACK } from './reference.ts';

function cell(text: string): string {
  return text.replace(/\|/gu, '\\|');
}

export function renderReadmeSection(report: BenchReport): string {
  const { context, options } = report;
  const rows = report.figures.map((figure) => {
    const measured = figure.value === undefined ? 'not run' : `${formatNumber(figure.value, figure.unit)} ${figure.unit}`;
    const target = figure.target === undefined ? '—' : `${figure.higherIsBetter ? '≥' : '<'} ${formatNumber(figure.target)} ${figure.unit}`;
    const mark = figure.meetsTarget === undefined ? '' : figure.meetsTarget ? ' ✅' : ' ❌';
    return `| ${cell(figure.label)} | ${measured}${mark} | ${target} | ${cell(figure.reference)} |`;
  });
  const detailRows = details(report.results).map(([label, value]) => `| ${cell(label)} | ${cell(value)} |`);
  return [
    '## Performance',
    '',
    `Measured by \`npm run bench\` on ${context.date.slice(0, 10)} (commit \`${context.commit.slice(0, 12)}\`, Node ${context.node}, ` +
      `${context.machine.cores} cores, ${context.machine.memoryGb} GB, ${context.machine.cpuModel}), against the no-Docker lab ` +
      'with the load generators in their own processes on the same cores ' +
      `(1-minute load average ${context.loadAverage.start} at start, ${context.loadAverage.end} at end).`,
    '',
    '| figure | mxlab | target | Postfix 3.7 + Dovecot 2.3 |',
    '|---|---|---|---|',
    ...rows,
    '',
    `Reference: ${REFERENCE_STACK}. Every message is fsync'd before \`250\`. ` +
      'Where the time goes and the proposed fixes: [bench/FINDINGS.md](bench/FINDINGS.md).',
    '',
    '<details><summary>Details of this run</summary>',
    '',
    '| | |',
    '|---|---|',
    ...detailRows,
    '',
    '</details>',
    '',
    '### Reproduce',
    '',
    '```sh',
    'npm ci',
    `npm run bench                       # all scenarios: ${options.n} × ${options.size} B messages, ${options.c} SMTP sessions, ` +
      `${options.k} IMAP clients × ${options.t} s, ${options.p} POP3 maildrops, ${options.scale.toLocaleString('en-US')}-message mailbox`,
    'npm run bench -- --only ingest,imap --n 2000 --c 20 --k 8 --t 20 --scale 100000',
    'npm run bench -- --target compose   # against a running `docker compose up` (no scale scenario)',
    '```',
    '',
    'The bench starts its own lab on 127.30.0.X with free host ports (needs root or',
    '`net.ipv4.ip_unprivileged_port_start=24`, like `npm start`), prints a table, and writes',
    '`bench/results/<date>.json` and `bench/results/latest.json` with the machine, the date and the commit.',
    '',
    'What is measured: (1) ingest — N messages from C concurrent SMTP sessions to beta-mx1’s MX port',
    'for bob@beta.test, through the caller and the MDA, timed until all are in the Maildir and visible',
    'over IMAP; (2) submission — the same through alpha-mta’s submission port with STARTTLS and AUTH,',
    'across both MTAs; (3) IMAP read load — K clients looping LOGIN, SELECT, `FETCH 1:* (UID FLAGS',
    'RFC822.SIZE ENVELOPE)`, 50 × `FETCH n BODY.PEEK[]`, LOGOUT for T seconds over a 2000-message mailbox;',
    '(4) POP3 — parallel sessions, one maildrop each, retrieving every message; (5) scale — a',
    '100,000-message Maildir: first and second SELECT, `FETCH 1:* (UID FLAGS)`, the MRA’s RSS, POP3 STAT and UIDL.',
    '',
  ].join('\n');
}
