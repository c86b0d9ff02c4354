/**
 * The mailbox's keyword list as Dovecot keeps it (imaptest own_flags: 0 errors only with
 * these): SELECT's FLAGS names every keyword the mailbox has had, carried by a message
 * now or not, and a STORE announces each keyword it names in FLAGS at once, even when no
 * message took it. Raw sockets, two sessions.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deliver, startLab, type Lab } from '../testing/harness.ts';
import { RawImap } from '../testing/raw-client.ts';

const flagsLine = (reply: string): string => /^\* FLAGS \(([^)]*)\)/mu.exec(reply)?.[1] ?? '';

describe('keywords: the mailbox list in FLAGS (raw sockets)', () => {
  let lab: Lab;
  let first: RawImap;
  let second: RawImap;
  before(async () => {
    lab = await startLab();
    const maildir = lab.maildir('carol@beta.test');
    await deliver(maildir, 'Subject: one\r\n\r\nbody\r\n');
    await deliver(maildir, 'Subject: two\r\n\r\nbody\r\n');
    first = await RawImap.open(lab.imapPort);
    second = await RawImap.open(lab.imapPort);
    await first.command('a1', 'LOGIN carol@beta.test secret');
    await second.command('b1', 'LOGIN carol@beta.test secret');
    await first.command('a2', 'SELECT INBOX');
  });
  after(async () => {
    first.close();
    second.close();
    await lab.close();
  });

  it('a keyword no message carries any more is still in the FLAGS of a new SELECT', async () => {
    assert.match(await first.command('a3', 'STORE 1 +FLAGS ($Owned)'), /^\* 1 FETCH \(FLAGS \(\$Owned/mu);
    assert.match(await first.command('a4', 'STORE 1 -FLAGS ($Owned)'), /^\* 1 FETCH \(FLAGS \(\\Recent\)\)/mu);
    const selected = await second.command('b2', 'SELECT INBOX');
    assert.ok(flagsLine(selected).split(' ').includes('$Owned'), selected);
    assert.match(selected, /^\* OK \[PERMANENTFLAGS \([^)]*\$Owned[^)]*\\\*\)\]/mu);
  });

  it('STORE announces the keywords it names even when no message shows them (-FLAGS, .SILENT)', async () => {
    const removed = await first.command('a5', 'STORE 2 -FLAGS ($Never)');
    assert.ok(flagsLine(removed).split(' ').includes('$Never'), removed);
    const silent = await first.command('a6', 'STORE 2 +FLAGS.SILENT ($Quiet)');
    assert.ok(flagsLine(silent).split(' ').includes('$Quiet'), silent);
    assert.doesNotMatch(silent, /FETCH/u);
  });

  // How bench/FINDINGS.md makes imaptest's keywords known before own_flags. Last: it restarts the MRA.
  it('keywords an APPENDed message brought stay in FLAGS once it is expunged, also after a restart', async () => {
    const body = 'Subject: seed\r\n\r\nseed\r\n';
    const seeder = await RawImap.open(lab.imapPort);
    await seeder.command('c1', 'LOGIN alice@alpha.test secret');
    assert.match(await seeder.command('c2', `APPEND INBOX ($Seed1 $Seed2 \\Deleted) {${body.length}+}\r\n${body}`), /^c2 OK/mu);
    await seeder.command('c3', 'SELECT INBOX');
    assert.match(await seeder.command('c4', 'EXPUNGE'), /^\* 1 EXPUNGE/mu);
    seeder.close();
    await lab.restart();
    const reader = await RawImap.open(lab.imapPort);
    await reader.command('d1', 'LOGIN alice@alpha.test secret');
    const selected = await reader.command('d2', 'SELECT INBOX');
    reader.close();
    assert.match(selected, /^\* 0 EXISTS/mu);
    const flags = flagsLine(selected).split(' ');
    assert.ok(flags.includes('$Seed1') && flags.includes('$Seed2'), selected);
  });
});
