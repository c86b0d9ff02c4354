/**
 * What Dovecot's imaptest (release-2.3.21, scripted tests and stress runs; bench/FINDINGS.md)
 * found, each as a test of ours over raw sockets: the groups atoms, nil, fetch-envelope,
 * search-addresses and select, and the keyword announcements its checkpoints compare.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

const message = (headers: string[], body = 'body'): string => [...headers, '', body, ''].join('\r\n');

describe('imaptest parity over raw sockets', () => {
  let lab: Lab;
  let imap: RawImap;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    // 1: nil (imaptest nil.mbox)
    await deliver(maildir, message(['Date: Sat, 24 Mar 2007 23:00:00 +0200', 'Subject: NiL'], 'nil'));
    // 2: groups, one with only a comment (fetch-envelope.mbox)
    await deliver(maildir, message(['Date: Thu, 15 Feb 2007 01:02:03 +0200', 'From: user@domain (Real Name)', 'To: group: g1@d1.org, g2@d2.org;, group2: g3@d3.org;', 'Cc: group:;, group2: (foo) ;']));
    // 3: a source route
    await deliver(maildir, message(['Date: Thu, 15 Feb 2007 01:02:03 +0200', 'From: <@route:user@domain>']));
    // 4, 5: comments in and after an address (search-addresses.mbox)
    await deliver(maildir, message(['From: <user-from (comment)@ (comment) domain.org>', 'To: <user-to@domain.org>']));
    await deliver(maildir, message(['From: user-from@domain.org (RealFrom)', 'To: user-to@domain.org (RealTo)']));
    imap = await RawImap.open(lab.imapPort);
    await imap.command('l', 'LOGIN carol@beta.test secret');
  });
  after(async () => {
    imap.close();
    await lab.close();
  });

  it('ten sessions that SELECT an INBOX nobody opened yet, at once, see one UIDVALIDITY (stress: "UIDVALIDITY changed")', async () => {
    await deliver(lab.maildir('bob@beta.test'), message(['Subject: first'], 'first'));
    const sessions = await Promise.all(Array.from({ length: 10 }, () => RawImap.open(lab.imapPort)));
    try {
      await Promise.all(sessions.map((session, i) => session.command(`u${i}`, 'LOGIN bob@beta.test secret')));
      const selected = await Promise.all(sessions.map((session, i) => session.command(`s${i}`, 'SELECT INBOX')));
      const validities = selected.map((reply) => /\[UIDVALIDITY (\d+)\]/u.exec(reply)?.[1]);
      assert.equal(new Set(validities).size, 1, validities.join(' '));
      assert.ok(validities[0], selected[0]);
      const recent = selected.map((reply) => Number(/^\* (\d+) RECENT\r$/mu.exec(reply)?.[1]));
      assert.deepEqual([...recent].sort(), [0, 0, 0, 0, 0, 0, 0, 0, 0, 1], 'the new message is \\Recent in one session');
    } finally {
      for (const session of sessions) session.close();
    }
  });

  it('EXAMINE shows \\Recent without claiming it; SELECT then claims it (select)', async () => {
    const examined = await imap.command('e1', 'EXAMINE INBOX');
    assert.match(examined, /^\* 5 EXISTS\r\n\* 5 RECENT\r\n/mu);
    assert.match(await imap.command('e2', 'FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(\\Recent\)\)/mu);
    await imap.command('e3', 'CLOSE');
    assert.match(await imap.command('e4', 'STATUS INBOX (RECENT)'), /^\* STATUS INBOX \(RECENT 5\)/mu);
    assert.match(await imap.command('e5', 'SELECT INBOX'), /^\* 5 RECENT\r\n/mu);
    assert.match(await imap.command('e6', 'STATUS INBOX (RECENT)'), /^\* STATUS INBOX \(RECENT 0\)/mu);
  });

  it('NIL where an astring or a flag is expected is the atom NIL (nil)', async () => {
    assert.match(await imap.command('n1', 'SEARCH SUBJECT NIL'), /^\* SEARCH 1\r\nn1 OK/mu);
    assert.match(await imap.command('n2', 'SEARCH BODY nil'), /^\* SEARCH 1\r\nn2 OK/mu);
    assert.match(await imap.command('n3', 'LIST "" NIL'), /^n3 OK/mu);
    assert.match(await imap.command('n4', 'STORE 1 +FLAGS NIL'), /^n4 OK/mu);
    assert.match(await imap.command('n5', 'FETCH 1 FLAGS'), /^\* 1 FETCH \(FLAGS \(NIL \\Recent\)\)/mu);
  });

  it('ENVELOPE: a group holding only a comment is empty; a source route is the adl (fetch-envelope)', async () => {
    const fetched = await imap.command('f1', 'FETCH 2:3 ENVELOPE');
    assert.ok(fetched.includes('((NIL NIL "group" NIL) (NIL NIL "g1" "d1.org") (NIL NIL "g2" "d2.org") (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL "g3" "d3.org") (NIL NIL NIL NIL)) ((NIL NIL "group" NIL) (NIL NIL NIL NIL) (NIL NIL "group2" NIL) (NIL NIL NIL NIL))'), fetched);
    assert.ok(fetched.includes('((NIL "@route" "user" "domain"))'), fetched);
  });

  it('FROM/TO search the parsed addresses: comments gone, a trailing comment names the address (search-addresses)', async () => {
    assert.match(await imap.command('a1', 'SEARCH FROM user-from@domain.org'), /^\* SEARCH 4 5\r\n/mu);
    assert.match(await imap.command('a2', 'SEARCH FROM realfrom'), /^\* SEARCH 5\r\n/mu);
    assert.match(await imap.command('a3', 'SEARCH TO groupname'), /^\* SEARCH\r\n/mu);
    assert.match(await imap.command('a4', 'SEARCH TO group2'), /^\* SEARCH 2\r\n/mu);
    assert.match(await imap.command('a5', 'SEARCH CC foo'), /^\* SEARCH\r\n/mu, 'a lone comment is no address');
  });

  it('a mailbox name with [ is an atom: SELECT answers NO, LIST OK, and the session goes on (atoms)', async () => {
    assert.match(await imap.command('b1', "SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}"), /^b1 NO /mu);
    assert.match(await imap.command('b2', "LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*"), /^b2 OK/mu);
    assert.match(await imap.command('b3', 'SELECT INBOX'), /^b3 OK/mu);
    assert.match(await imap.command('b4', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]'), /Subject: NiL/u);
  });

  it('a keyword another session used is announced in FLAGS even when it is gone from the message again', async () => {
    const other = await RawImap.open(lab.imapPort);
    try {
      await other.command('o1', 'LOGIN carol@beta.test secret');
      await other.command('o2', 'SELECT INBOX');
      await other.command('o3', 'STORE 2 +FLAGS ($Fleeting)');
      await other.command('o4', 'STORE 2 -FLAGS ($Fleeting)');
      assert.match(await imap.command('k1', 'NOOP'), /^\* FLAGS \([^)]*\$Fleeting[^)]*\)\r\n/mu);
    } finally {
      other.close();
    }
  });
});
