import assert from 'node:assert/strict';
import { readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { curl, python, startPop3Lab, type Pop3Lab } from '../testing/pop3.ts';

/** Prints one JSON line with what poplib saw; retr bodies are base64 of lines joined with CRLF. */
const POPLIB_PRELUDE = `
import base64, json, poplib, ssl, sys
port, user, password, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def connect():
    if mode == 'ssl':
        return poplib.POP3_SSL('127.0.0.1', port, timeout=10, context=ssl.create_default_context(cafile=sys.argv[5]))
    pop = poplib.POP3('127.0.0.1', port, timeout=10)
    if mode == 'stls':
        pop.stls(context=ssl.create_default_context(cafile=sys.argv[5]))
    return pop
def joined(lines):
    return base64.b64encode(b''.join(line + b'\\r\\n' for line in lines)).decode()
out = {}
`;

function poplib(lab: Pop3Lab, body: string, mode: 'plain' | 'stls' | 'ssl' = 'plain', port = lab.port): Promise<Record<string, unknown>> {
  return python(`${POPLIB_PRELUDE}${body}\nprint(json.dumps(out))\n`, [String(port), 'bob@beta.test', 'secret', mode, lab.caPath]).then(
    (stdout) => JSON.parse(stdout) as Record<string, unknown>,
  );
}

const FIRST = 'From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: first\r\n\r\nline 1\r\n.starts with a dot\r\n..two dots\r\n.\r\nline 5\r\n';
const SECOND = 'From: carol@beta.test\r\nSubject: second\r\n\r\nhello\r\n';
const THIRD = 'Subject: third\r\n\r\nbye\r\n';

describe('POP3 with real clients (poplib, curl)', () => {
  let lab: Pop3Lab;
  const uids: string[] = [];

  before(async () => {
    lab = await startPop3Lab({ allowPlaintextAuth: true });
    for (const message of [FIRST, SECOND, THIRD]) uids.push(await lab.deliver('bob', message));
  });

  after(async () => {
    await lab.close();
  });

  it('poplib: capa, stat, list, uidl, retr byte-exact, top', async () => {
    const out = await poplib(
      lab,
      `
pop = connect()
out['welcome'] = pop.getwelcome().decode()
out['capa'] = sorted(pop.capa().keys())
pop.user(user); pop.pass_(password)
out['stat'] = list(pop.stat())
out['list'] = [l.decode() for l in pop.list()[1]]
out['uidl'] = [l.decode() for l in pop.uidl()[1]]
out['uidl2'] = pop.uidl(2).decode()
out['retr1'] = joined(pop.retr(1)[1])
out['top'] = joined(pop.top(1, 2)[1])
pop.quit()
`,
    );
    assert.match(String(out.welcome), /^\+OK pop\.beta\.test POP3/u);
    assert.deepEqual(out.capa, ['AUTH-RESP-CODE', 'IMPLEMENTATION', 'PIPELINING', 'RESP-CODES', 'SASL', 'STLS', 'TOP', 'UIDL', 'USER']);
    const sizes = [FIRST, SECOND, THIRD].map((message) => Buffer.byteLength(message));
    assert.deepEqual(out.stat, [3, sizes.reduce((a, b) => a + b)]);
    assert.deepEqual(out.list, sizes.map((size, index) => `${index + 1} ${size}`));
    assert.deepEqual(out.uidl, uids.map((uid, index) => `${index + 1} ${uid}`));
    assert.equal(out.uidl2, `+OK 2 ${uids[1]}`);
    assert.equal(Buffer.from(String(out.retr1), 'base64').toString(), FIRST);
    assert.equal(Buffer.from(String(out.top), 'base64').toString(), 'From: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: first\r\n\r\nline 1\r\n.starts with a dot\r\n');
  });

  it('RETR marked message 1 seen (moved to cur/ with :2,S) and UIDL did not change', async () => {
    const maildir = join(lab.mailRoot, 'beta.test', 'bob');
    assert.deepEqual(await readdir(join(maildir, 'cur')), [`${uids[0]}:2,S`]);
    const out = await poplib(lab, `pop = connect(); pop.user(user); pop.pass_(password)\nout['uidl'] = [l.decode() for l in pop.uidl()[1]]\npop.quit()`);
    assert.deepEqual(out.uidl, uids.map((uid, index) => `${index + 1} ${uid}`));
  });

  it('curl pop3://host:port/1 prints message 1', async () => {
    const result = await curl(['-s', `pop3://127.0.0.1:${lab.port}/1`, '--user', 'bob@beta.test:secret']);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.toString(), FIRST);
  });

  it('curl over STLS (--ssl-reqd) and implicit TLS (pop3s://), trusting the lab CA', async () => {
    const stls = await curl(['-s', '--ssl-reqd', '--cacert', lab.caPath, `pop3://127.0.0.1:${lab.port}/2`, '--user', 'bob@beta.test:secret']);
    assert.equal(stls.code, 0, stls.stderr);
    assert.equal(stls.stdout.toString(), SECOND);
    const implicit = await curl(['-s', '--cacert', lab.caPath, `pop3s://127.0.0.1:${lab.tlsPort}/3`, '--user', 'bob@beta.test:secret']);
    assert.equal(implicit.code, 0, implicit.stderr);
    assert.equal(implicit.stdout.toString(), THIRD);
  });

  it('poplib over STLS and POP3_SSL', async () => {
    const body = `pop = connect(); pop.user(user); pop.pass_(password)\nout['stat'] = list(pop.stat())\npop.quit()`;
    assert.deepEqual((await poplib(lab, body, 'stls')).stat?.valueOf(), [3, Buffer.byteLength(FIRST + SECOND + THIRD)]);
    assert.deepEqual((await poplib(lab, body, 'ssl', lab.tlsPort)).stat, [3, Buffer.byteLength(FIRST + SECOND + THIRD)]);
  });

  it('RSET undoes DELE; DELE then QUIT removes the message for good', async () => {
    const rset = await poplib(
      lab,
      `pop = connect(); pop.user(user); pop.pass_(password)
out['dele'] = pop.dele(2).decode()
out['stat'] = list(pop.stat())
try:
    pop.retr(2)
except poplib.error_proto as error:
    out['retr'] = str(error)
out['rset'] = pop.rset().decode()
pop.quit()`,
    );
    assert.match(String(rset.dele), /^\+OK/u);
    assert.equal((rset.stat as number[])[0], 2);
    assert.match(String(rset.retr), /-ERR message 2 already deleted/u);
    const kept = await poplib(lab, `pop = connect(); pop.user(user); pop.pass_(password)\nout['stat'] = list(pop.stat())\npop.quit()`);
    assert.equal((kept.stat as number[])[0], 3);

    const deleted = await poplib(lab, `pop = connect(); pop.user(user); pop.pass_(password)\npop.dele(2)\nout['quit'] = pop.quit().decode()`);
    assert.match(String(deleted.quit), /^\+OK .*2 messages left/u);
    const after = await poplib(lab, `pop = connect(); pop.user(user); pop.pass_(password)\nout['uidl'] = [l.decode() for l in pop.uidl()[1]]\npop.quit()`);
    assert.deepEqual(after.uidl, [`1 ${uids[0]}`, `2 ${uids[2]}`]);
    const files = [...(await readdir(join(lab.mailRoot, 'beta.test', 'bob', 'new'))), ...(await readdir(join(lab.mailRoot, 'beta.test', 'bob', 'cur')))];
    assert.ok(!files.some((name) => name.startsWith(uids[1] ?? '-')), 'file of message 2 removed');
  });

  it('sizes come from the name when there (`,W=`, the CRLF size RETR sends, before `,S=`), from the file otherwise, in delivery order', async () => {
    const maildir = join(lab.mailRoot, 'beta.test', 'carol');
    await lab.deliver('carol', 'Subject: placeholder\r\n\r\nmakes the Maildir\r\n');
    for (const name of await readdir(join(maildir, 'new'))) await unlink(join(maildir, 'new', name));
    // Dropped in by hand (no size in the name), and a Dovecot-style name with both sizes:
    // stored with LF, `,S=` is the file's size, `,W=` the size with CRLF (what POP3 sends).
    const bare = 'Subject: bare name\r\n\r\nno size here\r\n';
    const dovecot = 'Subject: dovecot\r\n\r\nsized\r\n';
    const dovecotLf = dovecot.replace(/\r\n/gu, '\n');
    await writeFile(join(maildir, 'new', '1700000002.M5P9Q1.other'), bare);
    await writeFile(join(maildir, 'cur', `1700000001.M7P9Q1.other,S=${Buffer.byteLength(dovecotLf)},W=${Buffer.byteLength(dovecot)}:2,S`), dovecotLf);
    const out = await python(
      `import poplib, sys
pop = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
pop.user('carol@beta.test'); pop.pass_('secret')
print([l.decode() for l in pop.list()[1]], pop.stat())
pop.quit()
`,
      [String(lab.port)],
    );
    assert.equal(out.trim(), `['1 ${Buffer.byteLength(dovecot)}', '2 ${Buffer.byteLength(bare)}'] (2, ${Buffer.byteLength(dovecot + bare)})`);
  });

  it('a bad password is -ERR [AUTH] for poplib', async () => {
    const out = await python(
      `import poplib, sys
pop = poplib.POP3('127.0.0.1', int(sys.argv[1]), timeout=10)
pop.user('bob@beta.test')
try:
    pop.pass_('wrong')
except poplib.error_proto as error:
    print(error.args[0].decode())
`,
      [String(lab.port)],
    );
    assert.match(out.trim(), /^-ERR \[AUTH\] /u);
    assert.equal(await readFile(join(lab.mailRoot, 'beta.test', 'bob', 'mxlab-pop3.lock')).catch(() => 'no lock'), 'no lock');
  });
});
