/**
 * POP3 retrieval: one session per maildrop, all at once; each logs in, STATs and
 * retrieves every message (RETR pipelined in windows when the server offers
 * PIPELINING), then QUITs. Reports messages and octets per session and when each ended.
 */
import { Pop3Client } from '../clients/pop3.ts';
import { finish, now, readJob, readyThenGo, runWorker } from './protocol.ts';
import type { Pop3Job, Pop3Result } from './jobs.ts';

runWorker(async () => {
  const job = readJob<Pop3Job>();
  const clients: { client: Pop3Client; pipelining: boolean }[] = [];
  for (let i = 0; i < job.sessions.length; i += 1) {
    const client = await Pop3Client.connect({ host: job.host, port: job.port });
    clients.push({ client, pipelining: (await client.capa()).includes('PIPELINING') });
  }
  const result: Pop3Result = { messages: 0, octets: 0, pipelined: clients.every((item) => item.pipelining), sessionMs: [], endedAt: 0 };
  const startedAt = await readyThenGo();
  await Promise.all(
    clients.map(async ({ client, pipelining }, i) => {
      const { user, password } = job.sessions[i]!;
      await client.login(user, password);
      const { count } = await client.stat();
      const window = pipelining ? job.window : 1;
      for (let first = 1; first <= count; first += window) {
        const batch = Array.from({ length: Math.min(window, count - first + 1) }, (_, k) => first + k);
        const octets = await client.retrMany(batch);
        result.octets += octets;
        result.messages += batch.length;
      }
      await client.quit();
      result.sessionMs.push(now() - startedAt);
    }),
  );
  result.endedAt = now();
  finish(result);
});
