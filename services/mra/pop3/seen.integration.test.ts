/**
 * RETR's \Seen is applied at QUIT in one batch (as Dovecot commits a POP3 session's flag
 * changes), never one rename per RETR while the client waits: poplib over a real socket,
 * the Maildir looked at from inside the session and after it.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { python, startPop3Lab, type Pop3Lab } from '../testing/pop3.ts';

const SCRIPT = `
import json, os, poplib, sys
port, maildir, quit = int(sys.argv[1]), sys.argv[2], sys.argv[3] == 'quit'
def files():
    return {sub: sorted(os.listdir(os.path.join(maildir, sub))) for sub in ('new', 'cur')}
pop = poplib.POP3('127.0.0.1', port, timeout=10)
pop.user('bob@beta.test'); pop.pass_('secret')
out = {'count': pop.stat()[0]}
for n in json.loads(sys.argv[4]):
    pop.retr(n)
for n in json.loads(sys.argv[5]):
    pop.dele(n)
out['during'] = files()
if quit:
    out['quit'] = pop.quit().decode()
else:
    pop.sock.close()
print(json.dumps(out))
`;

interface Seen {
  count: number;
  during: { new: string[]; cur: string[] };
  quit?: string;
}

describe('POP3 RETR marks \\Seen at QUIT (poplib)', () => {
  let lab: Pop3Lab;
  let maildir: string;
  const uids: string[] = [];

  const session = async (retr: number[], dele: number[], quit: boolean): Promise<Seen> =>
    JSON.parse(await python(SCRIPT, [String(lab.port), maildir, quit ? 'quit' : 'drop', JSON.stringify(retr), JSON.stringify(dele)])) as Seen;
  const files = async () => ({ new: (await readdir(join(maildir, 'new'))).sort(), cur: (await readdir(join(maildir, 'cur'))).sort() });

  before(async () => {
    lab = await startPop3Lab({ allowPlaintextAuth: true });
    maildir = join(lab.mailRoot, 'beta.test', 'bob');
    for (let i = 1; i <= 4; i += 1) uids.push(await lab.deliver('bob', `Subject: message ${i}\r\n\r\nbody ${i}\r\n`));
  });

  after(async () => {
    await lab.close();
  });

  it('nothing is renamed while the session runs; QUIT marks the retrieved messages seen, removes the deleted ones, leaves the others', async () => {
    const out = await session([1, 2, 3], [2], true);
    assert.equal(out.count, 4);
    assert.deepEqual(out.during, { new: [...uids].sort(), cur: [] }, 'RETR renamed a file during the session');
    assert.match(String(out.quit), /^\+OK .*3 messages left/u);
    assert.deepEqual(await files(), { new: [uids[3]], cur: [`${uids[0]}:2,S`, `${uids[2]}:2,S`].sort() });
  });

  it('a session that ends without QUIT marks nothing (RFC 1939 §6: no UPDATE state)', async () => {
    const before = await files();
    const out = await session([1, 2, 3], [], false);
    assert.equal(out.count, 3);
    // The server sees the connection close; give it a moment to (not) act on it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await files(), before);
  });

  it('a message already seen is not renamed again; the next QUIT marks the rest', async () => {
    const out = await session([1, 2, 3], [], true);
    assert.match(String(out.quit), /^\+OK .*3 messages left/u);
    assert.deepEqual(await files(), { new: [], cur: [`${uids[0]}:2,S`, `${uids[2]}:2,S`, `${uids[3]}:2,S`].sort() });
  });
});
