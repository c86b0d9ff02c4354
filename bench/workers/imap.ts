/**
 * IMAP read load: `clients` concurrent clients, each looping LOGIN, SELECT INBOX,
 * `FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)`, `FETCH n BODY.PEEK[]` for `bodies`
 * random messages, LOGOUT, for `seconds`. Counts only commands completed in the window
 * and reports their latencies by kind.
 */
import { ImapClient } from '../clients/imap.ts';
import { existsCount } from '../clients/imap-wire.ts';
import { finish, now, readJob, readyThenGo, runWorker } from './protocol.ts';
import type { ImapCommandKind, ImapJob, ImapResult } from './jobs.ts';

runWorker(async () => {
  const job = readJob<ImapJob>();
  const result: ImapResult = {
    commands: 0,
    loops: 0,
    latenciesMs: { LOGIN: [], SELECT: [], FETCH_ALL: [], FETCH_BODY: [], LOGOUT: [] },
    bodyOctets: 0,
    endedAt: 0,
    errors: [],
  };
  const startedAt = await readyThenGo();
  const deadline = startedAt + job.seconds * 1000;

  const timed = async (client: ImapClient, kind: ImapCommandKind, command: string) => {
    const completion = kind === 'LOGOUT' ? await client.logout() : await client.run(command);
    if (now() <= deadline) {
      result.commands += 1;
      result.latenciesMs[kind].push(completion.ms);
    }
    return completion;
  };

  const loop = async (user: string, password: string) => {
    while (now() < deadline) {
      const client = await ImapClient.connect({ host: job.host, port: job.port });
      try {
        const login = await client.login(user, password);
        if (now() <= deadline) {
          result.commands += 1;
          result.latenciesMs.LOGIN.push(login.ms);
        }
        const select = await timed(client, 'SELECT', 'SELECT INBOX');
        const exists = existsCount(select.untagged) ?? 0;
        if (exists > 0) {
          await timed(client, 'FETCH_ALL', 'FETCH 1:* (UID FLAGS RFC822.SIZE ENVELOPE)');
          for (let i = 0; i < job.bodies && now() < deadline; i += 1) {
            const n = 1 + Math.floor(Math.random() * exists);
            const fetched = await timed(client, 'FETCH_BODY', `FETCH ${n} BODY.PEEK[]`);
            result.bodyOctets += fetched.literalOctets;
          }
        }
        await timed(client, 'LOGOUT', 'LOGOUT');
        if (now() <= deadline) result.loops += 1;
      } catch (error) {
        client.close();
        if (result.errors.length < 5) result.errors.push((error as Error).message);
        throw error;
      }
    }
  };

  await Promise.all(job.clients.map(({ user, password }) => loop(user, password)));
  result.endedAt = now();
  finish(result);
});
