import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';

const run = promisify(execFile);

describe('IMAP with curl', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.close();
  });

  it('lists folders, reads a message by UID byte for byte and searches, over STARTTLS and IMAPS', async () => {
    const original = sampleMessage('Read by curl');
    await deliver(lab.maildir('bob@beta.test'), original);
    const common = ['-s', '--max-time', '20', '--user', 'bob@beta.test:secret', '--cacert', join(lab.config.MXLAB_TLS_DIR, 'ca.crt'), '--resolve', `imap.alpha.test:${lab.imapPort}:127.0.0.1`, '--resolve', `imap.alpha.test:${lab.imapsPort}:127.0.0.1`];
    const list = await run('curl', [...common, '--ssl-reqd', `imap://imap.alpha.test:${lab.imapPort}/`]);
    assert.match(list.stdout, /^\* LIST \(\\HasNoChildren \\Sent\) "\." Sent\r$/mu);
    const message = await run('curl', [...common, `imaps://imap.alpha.test:${lab.imapsPort}/INBOX;UID=1`], { encoding: 'buffer' });
    assert.equal(message.stdout.toString('utf8'), original);
    const search = await run('curl', [...common, '--ssl-reqd', `imap://imap.alpha.test:${lab.imapPort}/INBOX?SUBJECT%20curl`]);
    assert.match(search.stdout, /^\* SEARCH 1\r$/mu);
  });
});
