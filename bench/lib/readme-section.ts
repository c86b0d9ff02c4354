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
    '100,000-message Maildir: first and second SELECT, `FETCH 1:* (UID FLAGS)`, the MRA’s RSS, POP3 STAT and UIDL; (6) parity',
    '(issue 14) — mxlab beside Debian\'s Postfix 3.7 + Dovecot 2.3, which the bench starts itself when',
    'they are installed and it runs as root (`apt-get install postfix dovecot-imapd dovecot-pop3d',
    'dovecot-lmtpd`; own configuration and state under a temporary directory, listening on 127.32.0.1',
    'only, `/etc` untouched), each figure measured on mxlab and on the reference back to back (the side',
    'that goes first alternates between the repeated runs), with the load average beside it and reported as a ratio (≥ 1 meets the reference): the greeting of a new SMTP',
    'connection (30 in a row just after the start, shown as the cold figure; then 500 in a row once',
    '`smtp-source` has run, the row with a target), Postfix\'s `smtp-source -s C -m N` (one message per connection; our own',
    'client opening a connection per message when it is absent) until all are visible over IMAP, POP3 one',
    'session RETR-ing one message at a time (the first session of new mail, which marks it all \\Seen, and',
    'the sessions right after it, while V8 still compiles the MRA\'s RETR path, shown apart; the row with a',
    'target comes after the 8-session runs, on a server in use) and 8 sessions of one user at once, timed once every session is logged in (the reference\'s',
    'passwords are Argon2id, as costly as mxlab\'s scrypt; each side\'s login time is shown beside), and',
    '`FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)` from 8 clients (p99). `BENCH_LOOPBACK_NET` and `BENCH_REFERENCE_NET` move the',
    'lab\'s and the reference\'s loopback nets (defaults 127.30 and 127.32).',
    '',
  ].join('\n');
}
