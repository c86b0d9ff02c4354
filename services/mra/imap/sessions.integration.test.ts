import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

describe('two IMAP sessions and deliveries at once', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.close();
  });

  it('tells each session of the others\' changes with EXISTS, FETCH and EXPUNGE', async () => {
    const maildir = lab.maildir('carol@beta.test');
    const a = await RawImap.open(lab.imapPort);
    const b = await RawImap.open(lab.imapPort);
    await a.command('a1', 'LOGIN carol@beta.test secret');
    await b.command('b1', 'LOGIN carol@beta.test secret');
    const bases: string[] = [];
    for (let i = 0; i < 3; i += 1) bases.push(await deliver(maildir, sampleMessage(`m${i}`)));
    assert.match(await a.command('a2', 'SELECT INBOX'), /^\* 3 EXISTS/mu);
    assert.match(await b.command('b2', 'SELECT INBOX'), /^\* 3 EXISTS/mu);

    // B goes IDLE; A flags and deletes; a delivery lands meanwhile.
    b.write('b3 IDLE\r\n');
    await b.until(/^\+ idling/mu);
    await a.command('a3', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
    assert.match(await b.until(/^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\)\)/mu), /FETCH/u);
    await deliver(maildir, sampleMessage('during idle'));
    assert.match(await b.until(/^\* 4 EXISTS/mu), /EXISTS/u);
    const expunged = await a.command('a4', 'UID STORE 1 +FLAGS (\\Deleted)');
    assert.match(expunged, /^\* 1 FETCH \(UID 1 FLAGS \(\\Deleted \\Recent\)\)/mu);
    assert.match(await a.command('a5', 'EXPUNGE'), /^\* 1 EXPUNGE\r\n[\s\S]*^a5 OK/mu);
    assert.match(await b.until(/^\* 1 EXPUNGE/mu), /EXPUNGE/u);
    b.write('DONE\r\n');
    assert.match(await b.until(/^b3 OK/mu), /IDLE terminated/u);

    // POP3 (another writer) marks a message read and deletes another: seen by NOOP.
    const cur = await readdir(join(maildir, 'cur'));
    const third = bases[2] ?? '';
    await rename(join(maildir, 'new', third), join(maildir, 'cur', `${third}:2,S`));
    const flaggedFile = cur.find((name) => name.endsWith(':2,F'));
    assert.ok(flaggedFile);
    await unlink(join(maildir, 'cur', flaggedFile));
    const noop = await a.command('a6', 'NOOP');
    assert.match(noop, /^\* 1 EXPUNGE/mu);
    assert.match(noop, /^\* 1 FETCH \(UID 3 FLAGS \(\\Seen \\Recent\)\)/mu);
    assert.match(await a.command('a7', 'FETCH 1:* (UID)'), /^\* 2 FETCH \(UID 4\)\r\na7 OK/mu);

    // During FETCH no EXPUNGE is sent (RFC 3501 §7.4.1); the following NOOP brings it.
    await b.command('b4', 'NOOP');
    await b.command('b5', 'UID STORE 3 +FLAGS (\\Deleted)');
    await b.command('b6', 'EXPUNGE');
    const fetch = await a.command('a8', 'FETCH 1:* (FLAGS)');
    assert.doesNotMatch(fetch, /^\* \d+ EXPUNGE/mu);
    assert.match(await a.command('a9', 'NOOP'), /^\* 1 EXPUNGE/mu);
    a.close();
    b.close();
  });

  it('keeps UIDs and UIDVALIDITY across a restart', async () => {
    const maildir = lab.maildir('alice@alpha.test');
    for (let i = 0; i < 5; i += 1) await deliver(maildir, sampleMessage(`keep ${i}`));
    const first = await RawImap.open(lab.imapPort);
    await first.command('r1', 'LOGIN alice@alpha.test secret');
    const selected = await first.command('r2', 'SELECT INBOX');
    const validity = /UIDVALIDITY (\d+)/u.exec(selected)?.[1];
    await first.command('r3', 'UID STORE 2 +FLAGS (\\Deleted)');
    await first.command('r4', 'EXPUNGE');
    const before = await first.command('r5', 'FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    first.close();
    await lab.restart();
    lab.imapPort = lab.mra.imap[0]?.port ?? 0;
    await deliver(maildir, sampleMessage('after restart'));
    const second = await RawImap.open(lab.imapPort);
    await second.command('s1', 'LOGIN alice@alpha.test secret');
    const again = await second.command('s2', 'SELECT INBOX');
    assert.equal(/UIDVALIDITY (\d+)/u.exec(again)?.[1], validity);
    const after = await second.command('s3', 'FETCH 1:4 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.equal(after.replace(/^s3 .*$/mu, ''), before.replace(/^r5 .*$/mu, ''));
    assert.match(await second.command('s4', 'UID FETCH 6 (UID)'), /^\* 5 FETCH \(UID 6\)/mu);
    second.close();
  });
});
