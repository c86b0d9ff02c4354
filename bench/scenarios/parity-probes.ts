/**
 * The measurements of issue 14, each against one side (mxlab or the Postfix + Dovecot
 * reference) given as host, ports and one user: how clients really hit a mail server,
 * one connection per message, one POP3 command at a time, many sessions of one user.
 */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { ImapClient } from '../clients/imap.ts';
import { statusMessages } from '../clients/imap-wire.ts';
import { Pop3Client } from '../clients/pop3.ts';
import { SmtpClient } from '../clients/smtp.ts';
import { buildMessage } from '../lib/maildir-gen.ts';
import { loadAverage } from '../lib/machine.ts';
import { SMTP_SOURCE } from '../lib/reference-stack.ts';
import { perSecond, round, summarize, type LatencySummary } from '../lib/stats.ts';
import { sleep } from './context.ts';

const run = promisify(execFile);

export interface Side {
  name: 'mxlab' | 'reference';
  host: string;
  smtpPort: number;
  imapPort: number;
  pop3Port: number;
  password: string;
}

export interface Measured {
  /** 1-minute load average when the measurement started. */
  load: number;
}

export interface GreetingResult extends Measured {
  connections: number;
  firstMs: number;
  /** Every connection after the first. */
  after: LatencySummary;
}

/** Time from connect() to the end of the 220 greeting line, `count` connections one after another. */
export async function measureGreeting(side: Side, count: number): Promise<GreetingResult> {
  const load = loadAverage();
  const samples: number[] = [];
  for (let i = 0; i < count; i += 1) samples.push(await greetOnce(side.host, side.smtpPort));
  return { load, connections: count, firstMs: round(samples[0] ?? Number.NaN), after: summarize(samples.slice(1)) };
}

function greetOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect({ host, port, noDelay: true });
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (!text.includes('\r\n')) return;
      const ms = performance.now() - started;
      if (!text.startsWith('220')) reject(new Error(`greeting: ${text.trim()}`));
      else resolve(ms);
      socket.end('QUIT\r\n');
    });
    socket.on('error', reject);
    socket.setTimeout(30_000, () => socket.destroy(new Error('no greeting in 30 s')));
  });
}

export interface PerConnectionResult extends Measured {
  tool: string;
  messages: number;
  sessions: number;
  /** Start → every message visible over IMAP (STATUS INBOX, and Junk where there is one). */
  elapsedMs: number | undefined;
  messagesPerSecond: number;
  /** Start → the load tool finished (every 250 received). */
  acceptedPerSecond: number;
}

export async function smtpSourceAvailable(): Promise<boolean> {
  return access(SMTP_SOURCE).then(
    () => true,
    () => false,
  );
}

async function imapCounter(side: Side, user: string): Promise<{ count: () => Promise<number>; close: () => Promise<unknown> }> {
  const client = await ImapClient.connect({ host: side.host, port: side.imapPort });
  await client.login(user, side.password);
  const status = async (mailbox: string) => statusMessages((await client.run(`STATUS ${mailbox} (MESSAGES)`)).untagged) ?? 0;
  // mxlab's filter may file a message in Junk; the reference has no Junk (STATUS answers NO).
  return { count: async () => (await status('INBOX')) + (await status('Junk').catch(() => 0)), close: () => client.logout().catch(() => undefined) };
}

/**
 * `smtp-source -s sessions -m messages -l size` (Postfix's load tool: one message per
 * connection by default), or our own client opening a connection per message when it
 * is not installed; then waits until IMAP shows every message in the user's INBOX.
 */
export async function measurePerConnection(
  side: Side,
  options: { user: string; from: string; messages: number; sessions: number; bodyBytes: number; stallMs: number },
): Promise<PerConnectionResult> {
  const counter = await imapCounter(side, options.user);
  const count = counter.count;
  const base = await count();
  const load = loadAverage();
  const useTool = await smtpSourceAvailable();
  const started = performance.now();
  if (useTool) {
    await run(SMTP_SOURCE, ['-s', String(options.sessions), '-m', String(options.messages), '-l', String(options.bodyBytes), '-f', options.from, '-t', options.user, '-M', 'loadgen.bench.example', `${side.host}:${side.smtpPort}`], {
      maxBuffer: 16 * 2 ** 20,
    });
  } else {
    await ownPerConnection(side, options);
  }
  const acceptedMs = performance.now() - started;
  let seen = await count();
  let movedAt = performance.now();
  while (seen - base < options.messages && performance.now() - movedAt < options.stallMs) {
    await sleep(50);
    const now = await count();
    if (now !== seen) movedAt = performance.now();
    seen = now;
  }
  const elapsedMs = seen - base >= options.messages ? performance.now() - started : undefined;
  await counter.close();
  return {
    load,
    tool: useTool ? 'smtp-source' : 'own client, one connection per message',
    messages: options.messages,
    sessions: options.sessions,
    elapsedMs: elapsedMs === undefined ? undefined : round(elapsedMs),
    messagesPerSecond: elapsedMs === undefined ? 0 : perSecond(options.messages, elapsedMs),
    acceptedPerSecond: perSecond(options.messages, acceptedMs),
  };
}

async function ownPerConnection(side: Side, options: { user: string; from: string; messages: number; sessions: number; bodyBytes: number }): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < options.messages) {
      next += 1;
      const message = buildMessage({ from: options.from, to: options.user, subject: `per-connection ${next}`, messageId: `<pc.${next}.${Date.now()}@bench.example>`, date: new Date() }, options.bodyBytes);
      const client = await SmtpClient.connect({ host: side.host, port: side.smtpPort });
      await client.ehlo('loadgen.bench.example');
      await client.send(options.from, [options.user], message);
      await client.quit();
    }
  };
  await Promise.all(Array.from({ length: options.sessions }, worker));
}

export interface Pop3UserResult extends Measured {
  sessions: number;
  messages: number;
  refused: number;
  errors: string[];
  /** Connect + USER/PASS of each session (each side's password hashing: mxlab scrypt, the reference Argon2id). */
  loginMs: LatencySummary;
  /** Every session logged in → the last QUIT answered (the \Seen renames of the first session included). */
  elapsedMs: number;
  messagesPerSecond: number;
}

/**
 * `sessions` POP3 sessions of one user at once, each RETR-ing every message one
 * command at a time (as poplib and most clients do: no pipelining), timed from the
 * moment all are logged in, so the password hash of each side is not what is compared.
 */
export async function measurePop3User(side: Side, user: string, sessions: number): Promise<Pop3UserResult> {
  const load = loadAverage();
  const errors: string[] = [];
  const logins: number[] = [];
  let refused = 0;
  let messages = 0;
  const failed = (error: unknown): void => {
    const text = (error as Error).message;
    if (/IN-USE/u.test(text)) refused += 1;
    else errors.push(text);
  };
  const clients = await Promise.all(
    Array.from({ length: sessions }, async () => {
      const started = performance.now();
      let client: Pop3Client | undefined;
      try {
        client = await Pop3Client.connect({ host: side.host, port: side.pop3Port });
        await client.login(user, side.password);
        logins.push(performance.now() - started);
        return client;
      } catch (error) {
        failed(error);
        await client?.quit().catch(() => undefined);
        return undefined;
      }
    }),
  );
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      if (!client) return;
      try {
        const { count } = await client.stat();
        for (let n = 1; n <= count; n += 1) {
          await client.retr(n);
          messages += 1;
        }
        await client.quit();
      } catch (error) {
        failed(error);
        await client.quit().catch(() => undefined);
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  return { load, sessions, messages, refused, errors: errors.slice(0, 5), loginMs: summarize(logins), elapsedMs: round(elapsedMs), messagesPerSecond: perSecond(messages, elapsedMs) };
}

export interface FetchEnvelopeResult extends Measured {
  clients: number;
  fetches: number;
  latency: LatencySummary;
}

/** `clients` IMAP sessions of one user, each running `FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)` `rounds` times. */
export async function measureFetchEnvelope(side: Side, user: string, clients: number, rounds: number): Promise<FetchEnvelopeResult> {
  const sessions = await Promise.all(
    Array.from({ length: clients }, async () => {
      const client = await ImapClient.connect({ host: side.host, port: side.imapPort });
      await client.login(user, side.password);
      await client.run('EXAMINE INBOX');
      return client;
    }),
  );
  const load = loadAverage();
  const samples: number[] = [];
  await Promise.all(
    sessions.map(async (client) => {
      for (let i = 0; i < rounds; i += 1) samples.push((await client.run('FETCH 1:* (FLAGS UID RFC822.SIZE ENVELOPE)')).ms);
    }),
  );
  await Promise.all(sessions.map((client) => client.logout().catch(() => undefined)));
  return { load, clients, fetches: samples.length, latency: summarize(samples) };
}
