/**
 * SMTP load: `sessions` concurrent sessions share `messages` transactions (each takes the
 * next one when it is free), optionally with STARTTLS and AUTH PLAIN. Reports each
 * accept latency (end of DATA sent → 250) and when the last message was accepted.
 */
import { SmtpClient } from '../clients/smtp.ts';
import { buildMessage } from '../lib/maildir-gen.ts';
import { finish, now, readJob, readyThenGo, runWorker } from './protocol.ts';
import type { SmtpJob, SmtpResult } from './jobs.ts';

const MAX_ERRORS_KEPT = 5;

runWorker(async () => {
  const job = readJob<SmtpJob>();
  const sessions: SmtpClient[] = [];
  for (let i = 0; i < Math.min(job.sessions, job.messages); i += 1) {
    const client = await SmtpClient.connect({ host: job.host, port: job.port });
    await client.ehlo(job.ehloName);
    if (job.starttls) await client.startTls(job.starttls, job.ehloName);
    if (job.auth) await client.authPlain(job.auth.user, job.auth.password);
    sessions.push(client);
  }
  const result: SmtpResult = { accepted: 0, failed: 0, latenciesMs: [], lastAcceptAt: 0, errors: [] };
  let next = 0;
  await readyThenGo();
  await Promise.all(
    sessions.map(async (client) => {
      while (next < job.messages) {
        next += 1;
        const n = next;
        const message = buildMessage(
          { from: job.from, to: job.to, subject: `${job.label} ${n}`, messageId: `<${job.label}.${n}.${process.pid}@bench.example>`, date: new Date() },
          job.bodyBytes,
        );
        try {
          result.latenciesMs.push(await client.send(job.from, [job.to], message));
          result.accepted += 1;
          result.lastAcceptAt = now();
        } catch (error) {
          result.failed += 1;
          if (result.errors.length < MAX_ERRORS_KEPT) result.errors.push((error as Error).message);
          if (!(error instanceof Error && error.name === 'SmtpError')) return;
        }
      }
      await client.quit().catch(() => undefined);
    }),
  );
  finish(result);
});
