/**
 * FETCH ENVELOPE served from the per-mailbox cache (kept in its wire form) is byte for
 * byte what the first, cold FETCH sent, for plain headers, 8-bit ones (sent as literals),
 * a header block longer than one read chunk and LF line ends; raw sockets, two sessions.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

const LONG_HEADER = Array.from({ length: 600 }, (_, i) => `Received: from relay${i}.example.net by mx.example.net; Thu, 15 Feb 2007 01:02:03 +0200`).join('\r\n');

describe('FETCH ENVELOPE from the cache (raw sockets)', () => {
  let lab: Lab;
  let first: RawImap;
  let second: RawImap;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    await deliver(maildir, 'From: Alice <alice@alpha.test>\r\nTo: carol@beta.test\r\nSubject: plain "quoted" \\ subject\r\nMessage-ID: <1@alpha.test>\r\n\r\nbody\r\n');
    await deliver(maildir, Buffer.from('From: =?utf-8?q?Ren=C3=A9?= <rene@alpha.test>\r\nSubject: caf\xc3\xa9 8-bit\r\n\r\nbody\r\n', 'latin1'));
    await deliver(maildir, `${LONG_HEADER}\r\nSubject: after a 50 KB header\r\nFrom: far@alpha.test\r\n\r\nbody\r\n`);
    await deliver(maildir, 'Subject: lf only\nFrom: lf@alpha.test\n\nbody\n');
    first = await RawImap.open(lab.imapPort);
    second = await RawImap.open(lab.imapPort);
    for (const [imap, tag] of [[first, 'a'], [second, 'b']] as const) {
      await imap.command(`${tag}1`, 'LOGIN carol@beta.test secret');
      await imap.command(`${tag}2`, 'SELECT INBOX');
    }
  });
  after(async () => {
    first.close();
    second.close();
    await lab.close();
  });

  it('the cached ENVELOPEs are what the cold FETCH sent', async () => {
    const untaggedOf = (reply: string) => reply.slice(0, reply.lastIndexOf('\r\nc') + 2);
    const cold = await first.command('c1', 'FETCH 1:* (UID ENVELOPE)');
    const warm = await second.command('c2', 'FETCH 1:* (UID ENVELOPE)');
    const again = await first.command('c3', 'FETCH 1:* (UID ENVELOPE)');
    assert.match(cold, /\r\nc1 OK FETCH completed\r\n$/u);
    assert.equal(untaggedOf(warm), untaggedOf(cold));
    assert.equal(untaggedOf(again), untaggedOf(cold));
    assert.match(cold, /^\* 1 FETCH \(UID 1 ENVELOPE \(NIL "plain \\"quoted\\" \\\\ subject" \(\("Alice" NIL "alice" "alpha\.test"\)\)/mu);
    // 8-bit octets go as a literal (the client reads latin1 here: é is two octets).
    assert.ok(cold.includes('* 2 FETCH (UID 2 ENVELOPE (NIL {11}\r\ncaf\xc3\xa9 8-bit (("=?utf-8?q?Ren=C3=A9?=" NIL "rene" "alpha.test"))'), cold);
    assert.match(cold, /^\* 3 FETCH \(UID 3 ENVELOPE \(NIL "after a 50 KB header" \(\(NIL NIL "far" "alpha\.test"\)\)/mu);
    assert.match(cold, /^\* 4 FETCH \(UID 4 ENVELOPE \(NIL "lf only" \(\(NIL NIL "lf" "alpha\.test"\)\)/mu);
  });

  it('two sessions filling a cold cache at once get the same ENVELOPEs', async () => {
    await deliver(lab.maildir('carol@beta.test'), 'Subject: fresh one\r\nFrom: new@alpha.test\r\n\r\nbody\r\n');
    await deliver(lab.maildir('carol@beta.test'), 'Subject: fresh two\r\nFrom: new@alpha.test\r\n\r\nbody\r\n');
    assert.match(await first.command('n1', 'NOOP'), /^\* 6 EXISTS/mu);
    assert.match(await second.command('n2', 'NOOP'), /^\* 6 EXISTS/mu);
    const [one, two] = await Promise.all([first.command('p1', 'FETCH 1:* (UID ENVELOPE)'), second.command('p1', 'FETCH 1:* (UID ENVELOPE)')]);
    assert.equal(one, two);
    assert.match(one, /^\* 5 FETCH \(UID 5 ENVELOPE \(NIL "fresh one" /mu);
    assert.match(one, /^\* 6 FETCH \(UID 6 ENVELOPE \(NIL "fresh two" /mu);
    assert.match(one, /\r\np1 OK FETCH completed\r\n$/u);
  });

  it('RFC822.HEADER of the long header is the whole block (read past the first chunk)', async () => {
    const header = await first.command('h1', 'FETCH 3 RFC822.HEADER');
    const expected = `${LONG_HEADER}\r\nSubject: after a 50 KB header\r\nFrom: far@alpha.test\r\n\r\n`;
    assert.ok(header.includes(`RFC822.HEADER {${Buffer.byteLength(expected)}}\r\n${expected}`), header.slice(0, 200));
  });
});
