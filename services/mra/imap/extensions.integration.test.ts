import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

const multipart = [
  'From: alice@alpha.test',
  'To: carol@beta.test',
  'Subject: parts',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'first part',
  '--b1',
  'Content-Type: application/octet-stream; name="a.bin"',
  'Content-Disposition: attachment; filename="a.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--b1--',
  '',
].join('\r\n');

describe('IMAP extensions and RFC 3501 details over raw sockets', () => {
  let lab: Lab;
  let imap: RawImap;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    await deliver(maildir, sampleMessage('plain one'));
    await deliver(maildir, multipart);
    imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
  });
  after(async () => {
    imap.close();
    await lab.close();
  });

  it('answers ID, NAMESPACE, ENABLE, LSUB and STATUS', async () => {
    assert.match(await imap.command('i1', 'ID ("name" "test")'), /^\* ID \("name" "mxlab"/mu);
    assert.match(await imap.command('i2', 'NAMESPACE'), /^\* NAMESPACE \(\(""\s"\."\)\) NIL NIL/mu);
    assert.match(await imap.command('i3', 'ENABLE CONDSTORE'), /^\* ENABLED CONDSTORE/mu);
    assert.match(await imap.command('i4', 'LSUB "" "*"'), /^\* LSUB \(\\HasNoChildren \\Sent\) "\." Sent/mu);
    assert.match(await imap.command('i5', 'LIST "" "%"'), /^\* LIST \(\\HasNoChildren \\Trash\) "\." Trash/mu);
    assert.match(await imap.command('i6', 'STATUS INBOX (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)'), /^\* STATUS INBOX \(MESSAGES 2 UIDNEXT 3 UNSEEN 2 HIGHESTMODSEQ \d+\)/mu);
  });

  it('EXAMINE is read-only; FETCH does not set \\Seen there', async () => {
    assert.match(await imap.command('e1', 'EXAMINE INBOX'), /^e1 OK \[READ-ONLY\]/mu);
    await imap.command('e2', 'FETCH 1 BODY[]');
    assert.doesNotMatch(await imap.command('e3', 'FETCH 1 FLAGS'), /\\Seen/u);
    assert.match(await imap.command('e4', 'STORE 1 +FLAGS (\\Seen)'), /^e4 NO \[READ-ONLY\]/mu);
    assert.match(await imap.command('e5', 'UNSELECT'), /^e5 OK/mu);
    assert.match(await imap.command('e6', 'FETCH 1 FLAGS'), /^e6 BAD FETCH: select a mailbox first/mu);
  });

  it('fetches BODYSTRUCTURE, sections, partials and sets \\Seen on BODY[]', async () => {
    const selected = await imap.command('f1', 'SELECT INBOX (CONDSTORE)');
    assert.match(selected, /^\* OK \[HIGHESTMODSEQ \d+\]/mu);
    assert.match(selected, /^\* OK \[UIDVALIDITY \d+\]/mu);
    const structure = await imap.command('f2', 'FETCH 2 (BODYSTRUCTURE)');
    assert.match(structure, /BODYSTRUCTURE \(\("text" "plain" \("charset" "us-ascii"\) NIL NIL "7bit" 10 1 NIL NIL NIL NIL\)\("application" "octet-stream" \("name" "a\.bin"\) NIL NIL "base64" 8 NIL \("attachment" \("filename" "a\.bin"\)\) NIL NIL\) "mixed"/u);
    assert.match(await imap.command('f3', 'FETCH 2 (BODY.PEEK[2] BODY.PEEK[1]<0.5> BODY.PEEK[2.MIME])'), /BODY\[2\] \{8\}\r\nAAECAw== BODY\[1\]<0> \{5\}\r\nfirst BODY\[2\.MIME\] \{\d+\}\r\nContent-Type: application\/octet-stream/u);
    assert.match(await imap.command('f4', 'UID FETCH 2 (RFC822.HEADER INTERNALDATE RFC822.SIZE)'), /UID 2 RFC822\.HEADER \{\d+\}\r\nFrom: alice@alpha\.test\r\n[\s\S]*\r\n\r\n INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d \+0000" RFC822\.SIZE \d+/u);
    const seen = await imap.command('f5', 'FETCH 1 (BODY[TEXT])');
    assert.match(seen, /FLAGS \(\\Seen \\Recent\)/u);
    assert.match(await imap.command('f6', 'FETCH 1:2 (FLAGS) (CHANGEDSINCE 1)'), /^\* 1 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)/mu);
  });

  it('CONDSTORE: STORE UNCHANGEDSINCE reports MODIFIED; SEARCH MODSEQ', async () => {
    const fetched = await imap.command('c1', 'FETCH 2 (MODSEQ)');
    const modseq = Number(/MODSEQ \((\d+)\)/u.exec(fetched)?.[1]);
    assert.ok(modseq > 0);
    const stored = await imap.command('c2', `STORE 2 (UNCHANGEDSINCE ${modseq}) +FLAGS (\\Flagged)`);
    assert.match(stored, /^\* 2 FETCH \(FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)\r\nc2 OK/mu);
    const newModseq = Number(/MODSEQ \((\d+)\)/u.exec(stored)?.[1]);
    assert.ok(newModseq > modseq);
    assert.match(await imap.command('c3', `STORE 2 (UNCHANGEDSINCE ${modseq}) -FLAGS (\\Flagged)`), /^c3 OK \[MODIFIED 2\]/mu);
    assert.match(await imap.command('c4', `SEARCH MODSEQ ${newModseq}`), new RegExp(`^\\* SEARCH 2 \\(MODSEQ ${newModseq}\\)`, 'mu'));
  });

  it('SEARCH grammar: OR, NOT, sizes, dates, header and sequence sets', async () => {
    assert.match(await imap.command('s1', 'SEARCH OR SUBJECT parts SUBJECT nothing'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('s2', 'SEARCH NOT SEEN'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('s3', 'SEARCH LARGER 1 SMALLER 100000 SINCE 1-Jan-2000 BEFORE 1-Jan-2100'), /^\* SEARCH 1 2\r\n/mu);
    assert.match(await imap.command('s4', 'SEARCH HEADER Content-Disposition attachment'), /^\* SEARCH\r\n/mu);
    assert.match(await imap.command('s5', 'SEARCH CHARSET UTF-8 BODY "first part"'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('s6', 'UID SEARCH 1:* SENTSINCE 1-Jan-2000'), /^\* SEARCH 1\r\n/mu);
    assert.match(await imap.command('s7', 'SEARCH CHARSET KOI8-R ALL'), /^s7 NO \[BADCHARSET/mu);
    assert.match(await imap.command('s8', 'SEARCH FOO'), /^s8 BAD SEARCH: unknown search key FOO/mu);
  });

  it('APPEND with LITERAL+, COPY with COPYUID, UID EXPUNGE, CLOSE', async () => {
    const body = 'Subject: appended\r\n\r\nhi\r\n';
    imap.write(`a1 APPEND Drafts (\\Draft) " 1-Feb-2026 10:00:00 +0100" {${body.length}+}\r\n${body}\r\n`);
    assert.match(await imap.until(/^a1 /mu), /^a1 OK \[APPENDUID \d+ 1\]/mu);
    assert.match(await imap.command('a2', 'APPEND Nowhere {2+}\r\nhi'), /^a2 NO \[TRYCREATE\]/mu);
    assert.match(await imap.command('a3', 'UID COPY 1:2 Trash'), /^a3 OK \[COPYUID \d+ 1:2 1:2\]/mu);
    await imap.command('a4', 'STORE 1:2 +FLAGS.SILENT (\\Deleted)');
    assert.match(await imap.command('a5', 'UID EXPUNGE 2'), /^\* 2 EXPUNGE\r\n(?:[^\r\n]*\r\n)*a5 OK/mu);
    assert.match(await imap.command('a6', 'CLOSE'), /^a6 OK/mu);
    assert.doesNotMatch(await imap.command('a6b', 'NOOP'), /EXPUNGE/u);
    assert.match(await imap.command('a7', 'STATUS INBOX (MESSAGES)'), /MESSAGES 0/u);
    assert.match(await imap.command('a8', 'STATUS Trash (MESSAGES)'), /MESSAGES 2/u);
  });
});
