/**
 * The reference: Postfix 3.7 + Dovecot 2.3 from Debian, measured on the same
 * machine kind (2 cores, load generators on the same cores), and mxlab's targets.
 */

export interface Figure {
  /** Key in the results (`ingest.messagesPerSecond` …). */
  key: string;
  label: string;
  unit: string;
  reference: string;
  /** Undefined for a figure shown for information, without a target. */
  target: number | undefined;
  /** Whether a higher measured value is better (throughput) or lower (latency, memory). */
  higherIsBetter: boolean;
}

export const REFERENCE_STACK = 'Postfix 3.7 + Dovecot 2.3 (Debian), same machine kind, load generators on the same 2 cores';

export const FIGURES: readonly Figure[] = [
  {
    key: 'ingest.messagesPerSecond',
    label: 'Ingest end to end (MX → caller → MDA → IMAP-visible)',
    unit: 'msg/s',
    reference: '190–250 msg/s (440/s accepted by Postfix alone)',
    target: 250,
    higherIsBetter: true,
  },
  {
    key: 'submission.messagesPerSecond',
    label: 'Submission across both MTAs (STARTTLS+AUTH → alpha → beta)',
    unit: 'msg/s',
    reference: '— (no reference; same target as ingest)',
    target: 250,
    higherIsBetter: true,
  },
  {
    key: 'imap.commandsPerSecond',
    label: 'IMAP read load (8 clients)',
    unit: 'cmd/s',
    reference: '1,000 cmd/s, p99 184 ms',
    target: 1000,
    higherIsBetter: true,
  },
  {
    key: 'pop3.messagesPerSecond',
    label: 'POP3 RETR',
    unit: 'msg/s',
    reference: '5,400 msg/s',
    target: 5400,
    higherIsBetter: true,
  },
  {
    key: 'scale.selectWarmMs',
    label: '100k mailbox: SELECT (index built)',
    unit: 'ms',
    reference: '—',
    target: 500,
    higherIsBetter: false,
  },
  {
    key: 'scale.selectColdMs',
    label: '100k mailbox: first SELECT (builds the index)',
    unit: 'ms',
    reference: '—',
    target: undefined,
    higherIsBetter: false,
  },
  {
    key: 'scale.mraRssMb',
    label: '100k mailbox: MRA RSS after',
    unit: 'MB',
    reference: '—',
    target: 200,
    higherIsBetter: false,
  },
  {
    key: 'scale.mraRssAfterPop3Mb',
    label: '100k mailbox: MRA RSS, POP3 session open too',
    unit: 'MB',
    reference: '—',
    target: undefined,
    higherIsBetter: false,
  },
  {
    key: 'parity.smtpPerConnectionRatio',
    label: 'SMTP one message per connection (smtp-source -s 20), mxlab / reference',
    unit: '×',
    reference: '337 / 145 / 304 msg/s (issue 14)',
    target: 1,
    higherIsBetter: true,
  },
  {
    key: 'parity.greetingRatio',
    label: 'Greeting of a new SMTP connection to a server in use, p50, reference / mxlab',
    unit: '×',
    reference: '< 1 ms',
    target: 1,
    higherIsBetter: true,
  },
  {
    key: 'parity.greetingColdRatio',
    label: 'Greeting, cold: the first 30 connections after a start, p50, reference / mxlab',
    unit: '×',
    reference: 'V8 warming up; shown, not a target',
    target: undefined,
    higherIsBetter: true,
  },
  {
    key: 'parity.pop3OneSessionRatio',
    label: 'POP3 one session, one RETR at a time, server in use, mxlab / reference',
    unit: '×',
    reference: '4,386–5,435 msg/s',
    target: 1,
    higherIsBetter: true,
  },
  {
    key: 'parity.pop3OneSessionEarlyRatio',
    label: 'POP3 one session, early: right after the first session, mxlab / reference',
    unit: '×',
    reference: 'V8 warming up; shown, not a target',
    target: undefined,
    higherIsBetter: true,
  },
  {
    key: 'parity.pop3EightSessionsRatio',
    label: 'POP3 8 sessions of one user, mxlab / reference',
    unit: '×',
    reference: '7,205 msg/s, 0 errors',
    target: 1,
    higherIsBetter: true,
  },
  {
    key: 'parity.fetchEnvelopeP99Ratio',
    label: 'IMAP FETCH 1:* ENVELOPE, 8 clients, p99, reference / mxlab',
    unit: '×',
    reference: '211 ms',
    target: 1,
    higherIsBetter: true,
  },
  {
    key: 'labstart.startMs',
    label: 'testcontainers lab: start() to every agent serving (image present)',
    unit: 'ms',
    reference: '~25 s before (compose.yaml: start order and 5 s health checks)',
    target: 10_000,
    higherIsBetter: false,
  },
  {
    key: 'labstart.resetMs',
    label: 'testcontainers lab: reset() (every mailbox and queue emptied)',
    unit: 'ms',
    reference: '—',
    target: 1000,
    higherIsBetter: false,
  },
];

export function meets(figure: Figure, value: number): boolean | undefined {
  if (figure.target === undefined) return undefined;
  if (!Number.isFinite(value)) return false;
  return figure.higherIsBetter ? value >= figure.target : value <= figure.target;
}
