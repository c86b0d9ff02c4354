/**
 * Fault suite, a message at the SIZE limit (issue 15 item 3): alice submits a message just
 * under the 25 MiB limit, bob's IMAP client downloads it, and every agent's RSS is sampled
 * all along. The message arrives once and whole, and no agent's memory grows by more than
 * a few copies of it.
 * Own net 127.98.x.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { startLabProcess, type LabProcess } from '../scripts/lab-process.ts';
import { MAX_MESSAGE_BYTES } from '../services/mta/smtp/limits.ts';
import { bobImap, deliveredCopies, rssBytes } from './lib.ts';

/** Room left under the limit for the header fields each hop adds (Received, signatures, verdicts). */
const HEADROOM = 64 * 1024;
/**
 * Allowed growth of one agent's peak RSS over its start, in copies of the message: each hop
 * holds it a few times (the buffer it read, the one it writes with added header fields,
 * signing or scanning, garbage not yet collected; 5–7 measured). A copy per byte of work
 * (the caller's quoted-printable decoder once took 40) fails.
 */
const MAX_COPIES = 10;

/** A text body of 76-character lines adding up to `bytes`. */
function body(bytes: number): string {
  const line = `${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(3).slice(0, 74)}\r\n`;
  return line.repeat(Math.floor(bytes / line.length));
}

describe('fault suite: a message at the SIZE limit', () => {
  let lab: LabProcess;
  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.98' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('arrives once and whole, and no agent holds more than a few copies of it', async () => {
    const pids = await lab.pids();
    const start: Record<string, number> = {};
    const peak: Record<string, number> = {};
    for (const [agent, pid] of Object.entries(pids)) start[agent] = peak[agent] = await rssBytes(pid);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        for (const [agent, pid] of Object.entries(pids)) peak[agent] = Math.max(peak[agent] ?? 0, await rssBytes(pid));
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();

    const text = body(MAX_MESSAGE_BYTES - HEADROOM);
    const digest = createHash('sha256').update(text).digest('hex');
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: lab.ports.alphaSubmission,
      requireTLS: true,
      tls: { ca: lab.ca, servername: 'smtp.alpha.test' },
      auth: { user: 'alice@alpha.test', pass: 'secret' },
      socketTimeout: 300_000,
    });
    const messageId = '<bigmessage.1@faults.alpha.test>';
    try {
      await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'at the SIZE limit', text, messageId });
    } finally {
      transport.close();
    }

    const deadline = Date.now() + 240_000;
    while ((await deliveredCopies(lab, 'bigmessage')).size === 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const client = bobImap(lab);
    let downloaded: string;
    await client.connect();
    try {
      await client.mailboxOpen('INBOX');
      const found = await client.search({ header: { 'message-id': messageId } });
      assert.ok(Array.isArray(found) && found.length === 1, `one copy in bob's INBOX: ${JSON.stringify(found)}`);
      const part = await client.download(String(found[0]), '1');
      const chunks: Buffer[] = [];
      for await (const chunk of part.content) chunks.push(chunk as Buffer);
      downloaded = Buffer.concat(chunks).toString('latin1');
    } finally {
      await client.logout();
    }
    sampling = false;
    await sampler;

    const copies = await deliveredCopies(lab, 'bigmessage');
    assert.equal(copies.get(messageId), 1, 'delivered once');
    assert.equal(createHash('sha256').update(downloaded).digest('hex'), digest, 'the body arrives whole');

    const growth = Object.fromEntries(Object.keys(start).map((agent) => [agent, (peak[agent] ?? 0) - (start[agent] ?? 0)]));
    process.stdout.write(
      `# message at the SIZE limit (${(text.length / 1048576).toFixed(1)} MiB): RSS growth MiB ${Object.entries(growth)
        .map(([agent, bytes]) => `${agent} ${(bytes / 1048576).toFixed(0)}`)
        .join(' ')}\n`,
    );
    const over = Object.entries(growth).filter(([, bytes]) => bytes > MAX_COPIES * text.length);
    assert.deepEqual(over, [], `agents whose RSS grew by more than ${MAX_COPIES} copies of the message`);
  });
});
