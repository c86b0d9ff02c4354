import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { runPython } from '../../../shared/testing/processes.ts';
import { deliver, sampleMessage, startLab, type Lab } from '../testing/harness.ts';

/** Runs a Python script (stdin) with imaplib against the lab; returns its JSON output. */
async function python(script: string, args: string[]): Promise<unknown> {
  const result = await runPython(script, args);
  if (result.code !== 0) throw new Error(`python exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout.toString());
}

const SCRIPT = String.raw`
import imaplib, json, ssl, sys
port, ca = int(sys.argv[1]), sys.argv[2]
out = {}
def text(data):
    return [d.decode() if isinstance(d, bytes) else [x.decode() for x in d] for d in data if d is not None]
m = imaplib.IMAP4('127.0.0.1', port)
m.starttls(ssl_context=ssl.create_default_context(cafile=ca))
ctx = m.sock.getpeercert()
out['tls'] = bool(ctx)
out['login'] = m.login('bob@beta.test', 'secret')[0]
out['list'] = text(m.list()[1])
typ, data = m.select('INBOX')
out['select'] = [typ, data[0].decode()]
typ, data = m.fetch('1', '(FLAGS ENVELOPE BODY.PEEK[])')
out['fetch_meta'] = data[0][0].decode()
out['fetch_body'] = data[0][1].decode()
out['store'] = text(m.store('1', '+FLAGS', '\\Seen')[1])
out['unseen'] = text(m.search(None, 'UNSEEN')[1])
out['seen'] = text(m.search(None, 'SEEN')[1])
out['header_search'] = text(m.search(None, 'HEADER', 'Subject', 'python')[1])
out['append'] = [m.append('Sent', '(\\Seen)', imaplib.Time2Internaldate(1767225600), b'Subject: sent by python\r\n\r\nbody\r\n')[0]]
out['status'] = text(m.status('Sent', '(MESSAGES UNSEEN)')[1])
out['copy'] = text(m.uid('COPY', '1', 'Trash')[1])
out['delete'] = m.store('1', '+FLAGS', '\\Deleted')[0]
out['expunge'] = text(m.expunge()[1])
out['close'] = m.close()[0]
out['logout'] = m.logout()[0]
print(json.dumps(out))
`;

describe('IMAP with Python imaplib', () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab();
  });
  after(async () => {
    await lab.close();
  });

  it('logs in over STARTTLS, lists, selects, fetches, flags, searches, appends, copies and expunges', async () => {
    const original = sampleMessage('Hello python');
    await deliver(lab.maildir('bob@beta.test'), original);
    const result = (await python(SCRIPT, [String(lab.imapPort), `${lab.config.MXLAB_TLS_DIR}/ca.crt`])) as Record<string, unknown>;
    assert.equal(result.tls, true);
    assert.equal(result.login, 'OK');
    assert.ok((result.list as string[]).includes('(\\HasNoChildren \\Sent) "." Sent'));
    assert.deepEqual(result.select, ['OK', '1']);
    assert.match(result.fetch_meta as string, /^1 \(FLAGS \(\\Recent\) ENVELOPE \("Mon, 23 Nov 2026 10:00:00 \+0000" "Hello python" \(\("Alice Example" NIL "alice" "alpha\.test"\)\)/u);
    assert.equal(result.fetch_body, original);
    assert.deepEqual(result.store, ['1 (FLAGS (\\Seen \\Recent))']);
    assert.deepEqual(result.unseen, ['']);
    assert.deepEqual(result.seen, ['1']);
    assert.deepEqual(result.header_search, ['1']);
    assert.deepEqual(result.append, ['OK']);
    assert.deepEqual(result.status, ['Sent (MESSAGES 1 UNSEEN 0)']);
    assert.deepEqual(result.expunge, ['1']);
    assert.equal(result.close, 'OK');
    assert.equal(result.logout, 'BYE');
  });
});
