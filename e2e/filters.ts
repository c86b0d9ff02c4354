/**
 * The content filter across the chain (issue 3 (e)): beta-mx1 hands inbound mail to the
 * caller; a virus is refused at DATA (so alpha-mta bounces it to the sender) and spam is
 * tagged and filed into Junk by beta-mda.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { EICAR } from '../services/caller/engines/eicar.ts';
import { GTUBE } from '../services/caller/spam/rules.ts';
import type { MailLab } from './fixture.ts';

/** A bounce passes alpha-mta's retry-free 5xx path; long enough for a busy machine. */
const BOUNCE_TIMEOUT_MS = 120_000;

export async function eicarIsRefusedAndBounced(lab: MailLab): Promise<void> {
  const subject = `eicar ${randomBytes(6).toString('hex')}`;
  await lab.sendMail({
    from: 'alice@alpha.test',
    to: 'bob@beta.test',
    subject,
    text: 'See the attachment.',
    attachments: [{ filename: 'eicar.com', content: EICAR }],
  });
  const bounce = await lab.waitForMessage('alice@alpha.test', (m) => m.source.includes(subject) && /5\.7\.1|554/u.test(m.source), {
    timeoutMs: BOUNCE_TIMEOUT_MS,
  });
  assert.match(bounce.source, /^Content-Type: multipart\/report/imu, 'a DSN (RFC 3464)');
  const atBob = await lab.messages('bob@beta.test');
  assert.equal(atBob.filter((m) => m.parsed.subject === subject).length, 0, 'the virus never reached bob');
}

export async function gtubeLandsInJunk(lab: MailLab): Promise<void> {
  const subject = `gtube ${randomBytes(6).toString('hex')}`;
  await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: `Buy now!\n${GTUBE}\n` });
  const junk = await lab.waitForMessage('bob@beta.test', (m) => m.parsed.subject === subject, { mailbox: 'Junk' });
  assert.match(junk.source, /^X-Spam-Flag: YES/imu);
  const inbox = await lab.messages('bob@beta.test');
  assert.equal(inbox.filter((m) => m.parsed.subject === subject).length, 0, 'not in the INBOX');
}
