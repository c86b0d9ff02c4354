/**
 * RFC 3501 conformance details that suites such as Dovecot's imaptest check, over raw
 * sockets so the exact wire form is asserted.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';
import { runPython } from '../../../shared/testing/processes.ts';
import { MAX_BAD_COMMANDS } from './limits.ts';

const zoned = [
  'From: alice@alpha.test',
  'To: carol@beta.test',
  'Subject: late evening',
  'Date: Mon, 1 Jan 2024 23:30:00 -0500',
  '',
  'body',
  '',
].join('\r\n');

describe('IMAP conformance over raw sockets', () => {
  let lab: Lab;
  let imap: RawImap;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    await deliver(maildir, sampleMessage('first'));
    await deliver(maildir, zoned);
    await deliver(maildir, sampleMessage('third'));
    imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
    await imap.command('s', 'SELECT INBOX');
  });
  after(async () => {
    imap.close();
    await lab.close();
  });

  it('refuses message sequence numbers beyond the mailbox with BAD; UID sets past the end name nothing', async () => {
    assert.match(await imap.command('q1', 'FETCH 4 FLAGS'), /^q1 BAD /mu);
    assert.match(await imap.command('q2', 'FETCH 2:7 UID'), /^q2 BAD /mu);
    assert.match(await imap.command('q3', 'STORE 9 +FLAGS (x)'), /^q3 BAD /mu);
    assert.match(await imap.command('q4', 'COPY 4 Trash'), /^q4 BAD /mu);
    assert.match(await imap.command('q5', 'FETCH 5:* UID'), /^q5 BAD /mu);
    const reversed = await imap.command('q6', 'FETCH 3:2 UID');
    assert.match(reversed, /^\* 2 FETCH \(UID 2\)\r\n\* 3 FETCH \(UID 3\)\r\nq6 OK/mu);
    assert.match(await imap.command('q7', 'FETCH 2:* UID'), /^\* 3 FETCH \(UID 3\)\r\nq7 OK/mu);
    assert.match(await imap.command('q8', 'UID FETCH 100 FLAGS'), /^q8 OK/mu);
    assert.match(await imap.command('q9', 'UID FETCH 100:* UID'), /^\* 3 FETCH \(UID 3\)\r\nq9 OK/mu);
    assert.match(await imap.command('q10', 'UID STORE 50 +FLAGS (x)'), /^q10 OK/mu);
  });

  it('SENTON, SENTBEFORE and SENTSINCE use the Date header\'s own day, disregarding its zone', async () => {
    assert.match(await imap.command('d1', 'SEARCH SENTON 1-Jan-2024'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('d2', 'SEARCH SENTBEFORE 2-Jan-2024'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('d3', 'SEARCH SENTSINCE 2-Jan-2024'), /^\* SEARCH 1 3\r\n/mu);
    assert.match(await imap.command('d4', 'SEARCH NOT SENTON 1-JAN-2024'), /^\* SEARCH 1 3\r\n/mu);
  });

  it('tells the client of a new keyword with FLAGS and PERMANENTFLAGS before a FETCH shows it', async () => {
    const stored = await imap.command('k1', 'STORE 1 +FLAGS ($Important)');
    // `x` was announced by the UID STORE above (a keyword a STORE names is, as Dovecot does).
    assert.match(stored, /^\* FLAGS \(\\Seen \\Answered \\Flagged \\Deleted \\Draft x \$Important\)\r\n\* OK \[PERMANENTFLAGS \(\\Seen \\Answered \\Flagged \\Deleted \\Draft x \$Important \\\*\)\] [^\r\n]*\r\n\* 1 FETCH \(FLAGS \(\$Important/mu);
    assert.doesNotMatch(await imap.command('k2', 'STORE 2 +FLAGS ($Important)'), /^\* FLAGS/mu);
    // Another session sets a keyword: the FLAGS update comes before its FETCH.
    const other = await RawImap.open(lab.imapPort);
    await other.command('l', 'LOGIN carol@beta.test secret');
    await other.command('s', 'SELECT INBOX');
    await other.command('o1', 'STORE 3 +FLAGS.SILENT (Work)');
    other.close();
    assert.match(await imap.command('k3', 'NOOP'), /^\* FLAGS \([^)]*\$Important Work\)\r\n\* OK \[PERMANENTFLAGS [^\r\n]*\r\n\* 3 FETCH \(UID 3 FLAGS \(Work/mu);
    await imap.command('k4', 'STORE 1:3 -FLAGS.SILENT ($Important Work)');
  });

  it('APPEND of a zero-length literal is NO; a bare-LF message is stored so RFC822.SIZE is the octets of BODY[]', async () => {
    imap.write('a1 APPEND INBOX {0+}\r\n\r\n');
    assert.match(await imap.until(/^a1 /mu), /^a1 NO /mu);
    imap.write('a0 APPEND INBOX {12+}\r\nSubject: \0\r\n\r\n');
    assert.match(await imap.until(/^a0 /mu), /^a0 NO /mu);
    const message = 'Subject: lf only\nFrom: x@y.test\n\nline one\nline two\n';
    imap.write(`a2 APPEND INBOX {${message.length}+}\r\n${message}\r\n`);
    assert.match(await imap.until(/^a2 (OK|NO|BAD)/mu), /^\* 4 EXISTS\r\n[\s\S]*^a2 OK \[APPENDUID \d+ 4\]/mu);
    const fetched = await imap.command('a3', 'FETCH 4 (RFC822.SIZE BODY.PEEK[])');
    const size = Number(/RFC822\.SIZE (\d+)/u.exec(fetched)?.[1]);
    const literal = Number(/BODY\[\] \{(\d+)\}/u.exec(fetched)?.[1]);
    assert.equal(size, literal);
    assert.equal(size, message.length + message.split('\n').length - 1);
    assert.match(fetched, /Subject: lf only\r\nFrom: x@y\.test\r\n\r\nline one\r\n/u);
  });
});

describe('IMAP mailbox names and subscriptions over raw sockets', () => {
  let lab: Lab;
  let imap: RawImap;
  before(async () => {
    lab = await startLab();
    imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
  });
  after(async () => {
    imap.close();
    await lab.close();
  });

  it('LSUB shows a subscribed mailbox that was deleted, and a parent reached only by %, as \\Noselect', async () => {
    assert.match(await imap.command('s1', 'CREATE Projects.Alpha'), /^s1 OK/mu);
    assert.match(await imap.command('s2', 'SUBSCRIBE Projects.Alpha'), /^s2 OK/mu);
    assert.match(await imap.command('s3', 'SUBSCRIBE Gone'), /^s3 OK/mu);
    const percent = await imap.command('s4', 'LSUB "" "%"');
    assert.match(percent, /^\* LSUB \(\\Noselect\) "\." Projects\r\n/mu);
    assert.match(percent, /^\* LSUB \(\\Noselect\) "\." Gone\r\n/mu);
    assert.doesNotMatch(percent, /Projects\.Alpha/u);
    assert.match(await imap.command('s5', 'DELETE Projects.Alpha'), /^s5 OK/mu);
    const all = await imap.command('s6', 'LSUB "" "*"');
    assert.match(all, /^\* LSUB \(\\Noselect\) "\." Projects\.Alpha\r\n/mu);
    assert.match(all, /^\* LSUB \(\\HasNoChildren \\Sent\) "\." Sent\r\n/mu);
    assert.doesNotMatch(await imap.command('s7', 'LIST "" "*"'), /Gone|Projects\.Alpha/u);
    assert.match(await imap.command('s8', 'UNSUBSCRIBE Projects.Alpha'), /^s8 OK/mu);
    assert.doesNotMatch(await imap.command('s9', 'LSUB "" "*"'), /Projects/u);
  });

  it('mailbox names are modified UTF-7: non-ASCII names round-trip, a bare & or raw UTF-8 is refused', async () => {
    assert.match(await imap.command('u1', 'CREATE caf&AOk-.&ZeVnLIqe-'), /^u1 OK/mu);
    assert.match(await imap.command('u2', 'LIST "" "caf&AOk-*"'), /^\* LIST \(\\Noselect \\HasChildren\) "\." caf&AOk-\r\n\* LIST \(\\HasNoChildren\) "\." caf&AOk-\.&ZeVnLIqe-\r\n/mu);
    assert.match(await imap.command('u3', 'SELECT caf&AOk-.&ZeVnLIqe-'), /^u3 OK/mu);
    assert.match(await imap.command('u4', 'CREATE "Tom &-Jerry"'), /^u4 OK/mu);
    assert.match(await imap.command('u4s', 'STATUS "Tom &-Jerry" (MESSAGES APPENDLIMIT)'), /^\* STATUS "Tom &-Jerry" \(MESSAGES 0 APPENDLIMIT \d+\)\r\n/mu);
    assert.match(await imap.command('u5', 'LIST "" "Tom*"'), /^\* LIST \(\\HasNoChildren\) "\." "Tom &-Jerry"\r\n/mu);
    for (const [tag, name] of [['u6', 'caf&'], ['u7', 'a&AGE-'], ['u8', '&AOk'], ['u9', '&2D0-']]) {
      assert.match(await imap.command(tag ?? '', `CREATE "${name}"`), new RegExp(`^${tag} NO `, 'mu'));
    }
    imap.write(Buffer.from('u10 CREATE "caf\u00e9"\r\n', 'utf8'));
    assert.match(await imap.until(/^u10 /mu), /^u10 (NO|BAD) /mu);
  });
});

/** A lab whose carol@beta.test has `messages` messages, two sessions with her INBOX selected, and how to end it all. */
async function twoSessions(messages: number): Promise<{ lab: Lab; a: RawImap; b: RawImap; close: () => Promise<void> }> {
  const lab = await startLab();
  const maildir = lab.maildir('carol@beta.test');
  for (let i = 1; i <= messages; i += 1) await deliver(maildir, sampleMessage(`m${i}`));
  const a = await RawImap.open(lab.imapPort);
  const b = await RawImap.open(lab.imapPort);
  for (const client of [a, b]) {
    await client.command('l', 'LOGIN carol@beta.test secret');
    await client.command('s', 'SELECT INBOX');
  }
  const close = async (): Promise<void> => {
    a.close();
    b.close();
    await lab.close();
  };
  return { lab, a, b, close };
}

describe('IMAP sequence numbers while another session expunges', () => {
  let lab: Lab;
  let a: RawImap;
  let b: RawImap;
  let close: () => Promise<void>;
  before(async () => ({ lab, a, b, close } = await twoSessions(5)));
  after(() => close());

  it('FETCH, STORE and SEARCH send no EXPUNGE; FETCH answers a message another session expunged from the index and NIL for its content, STORE succeeds (RFC 2180 §4.1.3, §4.2.1; Dovecot: FETCH UID/FLAGS plain OK, BODY[] NIL with OK [EXPUNGEISSUED], STORE OK with the flags asked for); NOOP then expunges in decreasing order before EXISTS', async () => {
    await b.command('b1', 'STORE 2,4 +FLAGS.SILENT (\\Deleted)');
    assert.match(await b.command('b2', 'EXPUNGE'), /^\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\nb2 OK/mu);
    const fetched = await a.command('a1', 'FETCH 1:5 UID');
    assert.doesNotMatch(fetched, /^\* \d+ EXPUNGE/mu);
    assert.match(fetched, /^\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 2\)\r\n\* 3 FETCH \(UID 3\)\r\n\* 4 FETCH \(UID 4\)\r\n\* 5 FETCH \(UID 5\)\r\na1 OK FETCH completed/mu);
    const content = await a.command('a1b', 'FETCH 2:3 (FLAGS BODY.PEEK[])');
    assert.match(content, /^\* 2 FETCH \(FLAGS \(\\Deleted \\Recent\) BODY\[\] NIL\)\r\n\* 3 FETCH \(FLAGS \(\\Recent\) BODY\[\] \{\d+\}\r\n/mu);
    assert.match(content, /^a1b OK \[EXPUNGEISSUED\]/mu);
    assert.match(await a.command('a1c', 'FETCH 2 BODYSTRUCTURE'), /^a1c OK \[EXPUNGEISSUED\][^\r\n]*\r\n$/u, 'no FETCH response: BODYSTRUCTURE cannot be NIL');
    assert.match(await a.command('a2', 'FETCH 1 UID'), /^a2 OK/mu);
    const stored = await a.command('a3', 'STORE 2:3 +FLAGS (\\Flagged)');
    assert.doesNotMatch(stored, /^\* \d+ EXPUNGE/mu);
    assert.match(stored, /^\* 3 FETCH \(FLAGS \(\\Flagged/mu);
    assert.match(stored, /^\* 2 FETCH \(FLAGS \(\\Deleted \\Flagged \\Recent\)\)\r\n/mu, 'the flags asked for, as Dovecot reports them');
    assert.match(stored, /^a3 OK STORE completed/mu);
    const searched = await a.command('a4', 'SEARCH ALL');
    assert.doesNotMatch(searched, /^\* \d+ EXPUNGE/mu);
    assert.match(searched, /^a4 OK/mu);
    await deliver(lab.maildir('carol@beta.test'), sampleMessage('m6'));
    const noop = await a.command('a5', 'NOOP');
    assert.match(noop, /^\* 4 EXPUNGE\r\n\* 2 EXPUNGE\r\n(?:[^\r\n]*\r\n)*?\* 4 EXISTS\r\n/mu);
    assert.match(await a.command('a6', 'FETCH 1:* UID'), /^\* 1 FETCH \(UID 1\)\r\n\* 2 FETCH \(UID 3\)\r\n\* 3 FETCH \(UID 5\)\r\n\* 4 FETCH \(UID 6\)\r\na6 OK/mu);
    // COPY too: all or nothing; UID COPY copies what still exists.
    await b.command('b3', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    await b.command('b4', 'EXPUNGE');
    assert.match(await a.command('a7', 'COPY 1:2 Trash'), /^a7 NO \[EXPUNGEISSUED\]/mu);
    assert.match(await b.command('b5', 'STATUS Trash (MESSAGES)'), /^\* STATUS Trash \(MESSAGES 0\)/mu);
    assert.match(await a.command('a8', 'UID COPY 1:3 Trash'), /^a8 OK \[COPYUID \d+ 1 1\]/mu);
  });
});

describe('IMAP STOREs on a message another session expunged', () => {
  let a: RawImap;
  let b: RawImap;
  let close: () => Promise<void>;
  before(async () => ({ a, b, close } = await twoSessions(3)));
  after(() => close());

  it('build on each other in the view that has not heard of the EXPUNGE, and FETCH FLAGS shows them (the answers of Dovecot 2.3.19 to the same commands)', async () => {
    await b.command('b1', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.match(await b.command('b2', 'EXPUNGE'), /^\* 2 EXPUNGE\r\n/mu);
    assert.match(await a.command('a1', 'STORE 2 +FLAGS (k1)'), /^\* 2 FETCH \(FLAGS \(\\Deleted k1 \\Recent\)\)\r\na1 OK/mu);
    assert.match(await a.command('a2', 'STORE 2 +FLAGS (k2)'), /^\* 2 FETCH \(FLAGS \(\\Deleted k1 k2 \\Recent\)\)\r\na2 OK/mu);
    assert.match(await a.command('a3', 'STORE 2 -FLAGS (k1)'), /^\* 2 FETCH \(FLAGS \(\\Deleted k2 \\Recent\)\)\r\na3 OK/mu);
    assert.match(await a.command('a4', 'FETCH 2 (FLAGS INTERNALDATE)'), /^\* 2 FETCH \(FLAGS \(\\Deleted k2 \\Recent\) INTERNALDATE "[ \d]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"\)\r\na4 OK FETCH completed/mu);
    assert.match(await a.command('a5', 'STORE 2 FLAGS.SILENT (k3)'), /^a5 OK/mu);
    assert.match(await a.command('a6', 'STORE 2 +FLAGS (k4)'), /^\* 2 FETCH \(FLAGS \(k3 k4 \\Recent\)\)\r\na6 OK/mu);
    const told = await a.command('a7', 'NOOP');
    assert.match(told, /^\* 2 EXPUNGE\r\n/mu);
    assert.match(await a.command('a8', 'FETCH 1:* (UID FLAGS)'), /^\* 1 FETCH \(UID 1 FLAGS \(\\Recent\)\)\r\n\* 2 FETCH \(UID 3 FLAGS \(\\Recent\)\)\r\na8 OK/mu);
  });
});

describe('IMAP SEARCH of non-ASCII text through imaplib', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    await deliver(maildir, sampleMessage('Grüße aus Köln', 'Straße\r\n'));
    await deliver(maildir, sampleMessage('=?utf-8?q?Gr=C3=BC=C3=9Fe?= encoded', 'plain\r\n'));
    await deliver(maildir, sampleMessage('ascii only', 'plain\r\n'));
  });
  after(() => lab.close());

  it('matches raw UTF-8 and encoded-word headers with CHARSET UTF-8 literals', async () => {
    const script = [
      'import imaplib, sys',
      'M = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))',
      'M.login("carol@beta.test", "secret")',
      'M.select("INBOX")',
      'M.literal = "grüße".encode("utf-8")',
      'print(M.search("UTF-8", "SUBJECT")[1][0].decode())',
      'M.literal = "köln".encode("utf-8")',
      'print(M.uid("SEARCH", "CHARSET", "UTF-8", "TEXT")[1][0].decode())',
      'M.literal = "STRASSE".encode("utf-8")',
      'print(M.search("UTF-8", "BODY")[1][0].decode() or "-")',
      'M.literal = "Straße".encode("utf-8")',
      'print(M.search("UTF-8", "BODY")[1][0].decode())',
      'M.logout()',
    ].join('\n');
    const result = await runPython(script, [String(lab.imapPort)]);
    assert.equal(result.code, 0, String(result.stderr));
    assert.deepEqual(String(result.stdout).trim().split('\n'), ['1 2', '1', '-', '1']);
  });
});

describe('IMAP ENVELOPE of unusual address fields over raw sockets', () => {
  let lab: Lab;
  let imap: RawImap;
  before(async () => {
    lab = await startLab();
    await deliver(lab.maildir('carol@beta.test'), [
      'From: "Doe, John" <john@ex.test>',
      'To: undisclosed-recipients:;',
      'Cc: root, team: a@b.test, "q\\"uote" <c@d.test>;',
      'Reply-To: <>',
      'Subject: "quoted" \\ back',
      '',
      'x',
      '',
    ].join('\r\n'));
    imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
    await imap.command('s', 'EXAMINE INBOX');
  });
  after(async () => {
    imap.close();
    await lab.close();
  });

  it('keeps NIL hosts for group syntax only; an empty Reply-To falls back to From', async () => {
    const from = '(("Doe, John" NIL "john" "ex.test"))';
    const expected = `* 1 FETCH (ENVELOPE (NIL "\\"quoted\\" \\\\ back" ${from} ${from} ${from} ((NIL NIL "undisclosed-recipients" NIL) (NIL NIL NIL NIL)) ((NIL NIL "root" "MISSING_DOMAIN") (NIL NIL "team" NIL) (NIL NIL "a" "b.test") ("q\\"uote" NIL "c" "d.test") (NIL NIL NIL NIL)) NIL NIL NIL))\r\n`;
    assert.equal((await imap.command('e1', 'FETCH 1 ENVELOPE')).split('e1 OK')[0], expected);
  });
});

describe('IMAP session rules over raw sockets', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(() => lab.close());

  it('keeps a session that sends many refused commands between good ones (only BADs in a row end it)', async () => {
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
    for (let i = 0; i < MAX_BAD_COMMANDS * 2; i += 1) {
      assert.match(await imap.command(`b${i}`, 'FETCH 1 FLAGS'), new RegExp(`^b${i} BAD `, 'mu'));
      assert.match(await imap.command(`n${i}`, 'NOOP'), new RegExp(`^n${i} OK`, 'mu'));
    }
    assert.match(await imap.command('z', 'LOGOUT'), /^\* BYE [^\r\n]*\r\nz OK/mu);
    await imap.waitClosed();
  });
});

describe('IMAP DELETE and RENAME of a mailbox another session has selected', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    for (let i = 1; i <= 3; i += 1) await deliver(maildir, sampleMessage(`w${i}`), 'Work');
  });
  after(() => lab.close());

  it('are allowed (as Dovecot): the other session sees the messages expunged, and a new mailbox of the old name is separate', async () => {
    const a = await RawImap.open(lab.imapPort);
    const b = await RawImap.open(lab.imapPort);
    await a.command('l', 'LOGIN carol@beta.test secret');
    await b.command('l', 'LOGIN carol@beta.test secret');
    assert.match(await a.command('a1', 'SELECT Work'), /^\* 3 EXISTS/mu);
    assert.match(await b.command('b1', 'RENAME Work Archive'), /^b1 OK/mu);
    assert.match(await b.command('b2', 'STATUS Archive (MESSAGES)'), /^\* STATUS Archive \(MESSAGES 3\)/mu);
    assert.match(await a.command('a2', 'NOOP'), /^\* 3 EXPUNGE\r\n\* 2 EXPUNGE\r\n\* 1 EXPUNGE\r\na2 OK/mu);
    assert.match(await b.command('b3', 'CREATE Work'), /^b3 OK/mu);
    b.write('b4 APPEND Work {18+}\r\nSubject: new one\r\n\r\n');
    assert.match(await b.until(/^b4 /mu), /^b4 OK/mu);
    // The old view stays empty: the new folder at the same path is not the one A selected.
    assert.doesNotMatch(await a.command('a3', 'NOOP'), /EXISTS/u);
    assert.match(await a.command('a4', 'SELECT Work'), /^\* 1 EXISTS/mu);
    assert.match(await b.command('b5', 'SELECT Archive'), /^\* 3 EXISTS/mu);
    assert.match(await a.command('a5', 'DELETE Archive'), /^a5 OK/mu);
    assert.match(await b.command('b6', 'NOOP'), /^\* 3 EXPUNGE\r\n\* 2 EXPUNGE\r\n\* 1 EXPUNGE\r\nb6 OK/mu);
    assert.match(await b.command('b7', 'FETCH 1:* UID'), /^b7 (OK|BAD)/mu);
    assert.match(await a.command('a6', 'LIST "" "*"'), /^\* LIST \(\\HasNoChildren\) "\." Work\r\n/mu);
    assert.doesNotMatch(await a.command('a7', 'LIST "" "Archive"'), /^\* LIST/mu);
    a.close();
    b.close();
  });
});
