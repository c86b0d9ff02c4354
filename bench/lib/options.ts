/** `npm run bench -- …` options, parsed and checked once, with the defaults. */
import { parseArgs } from 'node:util';

export const SCENARIOS = ['ingest', 'submission', 'imap', 'pop3', 'scale', 'parity', 'labstart'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface BenchOptions {
  only: Scenario[];
  target: 'lab' | 'compose';
  /** Messages per ingest/submission run, and messages per IMAP/POP3 mailbox. */
  n: number;
  /** Concurrent SMTP sessions. */
  c: number;
  /** Concurrent IMAP clients. */
  k: number;
  /** Seconds of IMAP read load. */
  t: number;
  /** Parallel POP3 sessions (one maildrop each). */
  p: number;
  /** Messages in the scale mailbox. */
  scale: number;
  /** Body size of generated messages in bytes. */
  size: number;
  /** Load-generator processes per scenario. */
  procs: number;
  /** Lab CA file (compose target; the no-Docker lab hands its own). */
  ca: string | undefined;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]
  --only ingest,submission,imap,pop3,scale,parity,labstart   scenarios to run (default: all);
                         parity: beside Postfix + Dovecot when installed (root);
                         labstart: testcontainers labs, when Docker and the agents' image are there
  --target lab|compose   lab: start the no-Docker lab on 127.30.0.X (default);
                         compose: use a running compose stack's ports on 127.0.0.1
  --n 2000      messages per SMTP run and per IMAP/POP3 mailbox
  --c 20        concurrent SMTP sessions
  --k 8         concurrent IMAP clients
  --t 20        seconds of IMAP read load
  --p 4         parallel POP3 sessions, one maildrop each
  --scale 100000  messages in the scale mailbox
  --size 4096   body bytes per message
  --procs 2     load-generator processes per scenario
  --ca FILE     lab CA certificate (compose target)`;

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return value;
}

export function parseOptions(argv: readonly string[]): BenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      only: { type: 'string' },
      target: { type: 'string', default: 'lab' },
      n: { type: 'string' },
      c: { type: 'string' },
      k: { type: 'string' },
      t: { type: 'string' },
      p: { type: 'string' },
      scale: { type: 'string' },
      size: { type: 'string' },
      procs: { type: 'string' },
      ca: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const only = values.only === undefined ? [...SCENARIOS] : values.only.split(',').map((item) => item.trim()).filter(Boolean);
  for (const item of only) {
    if (!(SCENARIOS as readonly string[]).includes(item)) throw new Error(`--only: unknown scenario ${JSON.stringify(item)} (known: ${SCENARIOS.join(', ')})`);
  }
  if (values.target !== 'lab' && values.target !== 'compose') throw new Error(`--target must be lab or compose, got ${JSON.stringify(values.target)}`);
  return {
    only: only as Scenario[],
    target: values.target,
    n: positiveInt('n', values.n, 2000),
    c: positiveInt('c', values.c, 20),
    k: positiveInt('k', values.k, 8),
    t: positiveInt('t', values.t, 20),
    p: positiveInt('p', values.p, 4),
    scale: positiveInt('scale', values.scale, 100_000),
    size: positiveInt('size', values.size, 4096),
    procs: positiveInt('procs', values.procs, 2),
    ca: values.ca,
    help: values.help,
  };
}
