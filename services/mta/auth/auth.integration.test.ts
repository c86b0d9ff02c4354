/**
 * Issue 13 through the no-Docker lab (loopback net 127.60): alice's signed mail reaches
 * bob with spf/dkim/dmarc=pass and a signature that Python's dkimpy verifies against the
 * lab DNS; a forged alice is refused at beta-mx1 with 550 5.7.1; a beta message whose
 * body changed after signing lands in Junk; mail through the backup MX arrives arc=pass.
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { runProcess } from '../../../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from '../../../scripts/lab-process.ts';
import { loadSigningKeys } from './keys.ts';
import { signMessage } from './sign.ts';

const NET = '127.60';
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const keys = await loadSigningKeys(fileURLToPath(new URL('./keys/', import.meta.url)), ['alpha.test', 'beta.test'], ['lab1', 'lab1e']);

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

function unfold(text: string): string {
  return text.replace(/\r?\n[ \t]+/gu, ' ');
}

/** The first value of header `name` in a raw message, unfolded. */
function headerOf(raw: string, name: string): string | undefined {
  const head = unfold(raw.split(/\r?\n\r?\n/u)[0] ?? '');
  return head.split(/\r?\n/u).find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`));
}

describe('email authentication through the lab', () => {
  let lab: LabProcess;
  let env: NodeJS.ProcessEnv = {};
  let ca = '';

  before(async () => {
    lab = await startLabProcess({ loopbackNet: NET });
    ({ env, ca } = lab);
  });

  after(async () => {
    await lab?.stop();
  });

  /** bob's message with this subject in `folder`, as raw text, once it is there. */
  async function fetchFrom(folder: string, subject: string): Promise<string | undefined> {
    const imap = new ImapFlow({
      host: '127.0.0.1', port: Number(env.MXLAB_BETA_IMAP_PORT), secure: false,
      auth: { user: 'bob@beta.test', pass: 'secret' }, tls: { ca, servername: 'imap.beta.test' }, logger: false,
    });
    await imap.connect();
    try {
      await imap.mailboxOpen(folder, { readOnly: true });
      const uids = (await imap.search({ subject }, { uid: true })) || [];
      if (uids.length === 0) return undefined;
      const message = await imap.fetchOne(String(uids[0]), { source: true }, { uid: true });
      return message && message.source ? message.source.toString('utf8') : undefined;
    } finally {
      await imap.logout();
    }
  }

  async function sendToMx(port: string | undefined, from: string, raw: Buffer): Promise<string> {
    const mx = nodemailer.createTransport({ host: '127.0.0.1', port: Number(port), ignoreTLS: true, name: 'outside.example' });
    try {
      return (await mx.sendMail({ envelope: { from, to: ['bob@beta.test'] }, raw })).response;
    } catch (error) {
      return String((error as { response?: string }).response);
    }
  }

  function letter(from: string, subject: string, body: string): Buffer {
    return Buffer.from(
      [`From: ${from}`, 'To: Bob <bob@beta.test>', `Subject: ${subject}`, 'Date: Thu, 03 Dec 2026 08:00:00 +0000', `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@test>`, '', body, ''].join('\r\n'),
    );
  }

  it('delivers alice\'s mail signed, with spf=pass dkim=pass dmarc=pass, verifiable by dkimpy', async () => {
    const subject = `signed ${Date.now()}`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT), requireTLS: true,
      tls: { ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    const info = await transport.sendMail({ from: 'Alice <alice@alpha.test>', to: 'bob@beta.test', subject, text: 'Signed at submission.\n' });
    assert.match(info.response, /^250 /u);

    const raw = await until('the message in bob\'s INBOX', () => fetchFrom('INBOX', subject));
    assert.match(unfold(raw), /DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=alpha\.test;[^\r\n]* s=lab1;/u);
    const results = headerOf(raw, 'Authentication-Results') ?? '';
    assert.match(results, /^Authentication-Results: mx1\.beta\.test;/u);
    assert.match(results, /spf=pass [^;]*smtp\.mailfrom=alpha\.test/u);
    assert.match(results, /dkim=pass [^;]*header\.d=alpha\.test/u);
    assert.match(results, /dmarc=pass [^;]*header\.from=alpha\.test/u);

    // A verifier that is not ours, asking the lab DNS for the key.
    const script = `
import sys, dkim, dns.resolver
res = dns.resolver.Resolver(configure=False)
res.nameservers = ['127.0.0.1']
res.port = int(sys.argv[1])
def dnsfunc(name, timeout=5):
    answer = res.resolve(name.decode().rstrip('.'), 'TXT', lifetime=timeout)
    return b''.join(b''.join(r.strings) for r in answer[:1])
message = sys.stdin.buffer.read()
print('rsa', dkim.verify(message, dnsfunc=dnsfunc, minkey=1024))
d = dkim.DKIM(message)
print('all', [d.verify(idx=i, dnsfunc=dnsfunc) for i in range(len([l for l in message.split(b'\\r\\n') if l.lower().startswith(b'dkim-signature:')]))])
`;
    const python = await runProcess('/usr/bin/python3', ['-c', script, String(env.MXLAB_DNS_PORT)], { input: Buffer.from(raw), timeoutMs: 30_000 });
    assert.equal(python.code, 0, python.stderr.toString());
    assert.match(python.stdout.toString(), /^rsa True$/mu);
    assert.match(python.stdout.toString(), /^all \[True, True\]$/mu);
  });

  it('refuses a forged alice@alpha.test sent from outside straight to beta-mx1 with 550 5.7.1', async () => {
    const subject = `forged ${Date.now()}`;
    const reply = await sendToMx(env.MXLAB_BETA_MX1_PORT, 'alice@alpha.test', letter('Alice <alice@alpha.test>', subject, 'Send me your password.'));
    assert.match(reply, /^550 5\.7\.1 Message refused by DMARC policy: From domain alpha\.test fails DMARC .*p=reject/u);

    // Nothing was queued: a message sent after it arrives, the forged one never does.
    const after = `after forged ${Date.now()}`;
    const signed = await signMessage(letter('Alice <alice@alpha.test>', after, 'The real alice, signed.'), keys);
    assert.match(await sendToMx(env.MXLAB_BETA_MX1_PORT, 'alice@alpha.test', signed.message), /^250 /u);
    await until('the signed message', () => fetchFrom('INBOX', after));
    assert.equal(await fetchFrom('INBOX', subject), undefined);
    assert.equal(await fetchFrom('Junk', subject), undefined);
  });

  it('files a beta.test message whose body changed after signing into Junk: dkim=fail, dmarc=fail', async () => {
    const subject = `altered ${Date.now()}`;
    const signed = await signMessage(letter('Carol <carol@beta.test>', subject, 'Meet at 10.'), keys);
    assert.equal(signed.signed, true);
    const altered = Buffer.from(signed.message.toString('latin1').replace('Meet at 10.', 'Meet at 11.'), 'latin1');
    assert.match(await sendToMx(env.MXLAB_BETA_MX1_PORT, 'carol@beta.test', altered), /^250 /u);

    const raw = await until('the message in bob\'s Junk', () => fetchFrom('Junk', subject));
    const results = headerOf(raw, 'Authentication-Results') ?? '';
    assert.match(results, /dkim=fail [^;]*header\.d=beta\.test/u);
    assert.match(results, /dmarc=fail [^;]*header\.from=beta\.test/u);
    assert.match(raw, /^X-Mxlab-Quarantine: From domain beta\.test fails DMARC/mu);
    assert.equal(await fetchFrom('INBOX', subject), undefined);
  });

  it('delivers mail from a domain outside the lab (no SPF, no DMARC) to the INBOX, noted as none', async () => {
    const subject = `outside ${Date.now()}`;
    assert.match(await sendToMx(env.MXLAB_BETA_MX1_PORT, 'news@outside.example', letter('News <news@outside.example>', subject, 'Hello from outside.')), /^250 /u);
    const raw = await until('the message in bob\'s INBOX', () => fetchFrom('INBOX', subject));
    const results = headerOf(raw, 'Authentication-Results') ?? '';
    assert.match(results, /dkim=none/u);
    assert.match(results, /spf=none [^;]*smtp\.mailfrom=outside\.example/u);
    assert.doesNotMatch(results, /temperror/u);
  });

  it('seals mail at the backup MX; beta-mx1 finds arc=pass and files it in the INBOX', async () => {
    const labctl = (...args: string[]) => runProcess(process.execPath, [join(ROOT, 'scripts', 'labctl.ts'), ...args], { timeoutMs: 60_000, env });
    const mx2Queue = async () => ((await (await fetch(`http://${NET}.0.21:8026/queue`)).json()) as { messages: unknown[] }).messages;
    assert.equal((await labctl('stop', 'beta-mx1')).code, 0);
    const subject = `via backup ${Date.now()}`;
    const transport = nodemailer.createTransport({
      host: '127.0.0.1', port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT), requireTLS: true,
      tls: { ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'secret' },
    });
    await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'through the backup MX' });
    await until('the message in beta-mx2\'s queue', async () => ((await mx2Queue()).length > 0 ? true : undefined));
    assert.equal((await labctl('start', 'beta-mx1')).code, 0);
    await fetch(`http://${NET}.0.21:8026/queue/flush`, { method: 'POST' });

    const raw = await until('the message in bob\'s INBOX', () => fetchFrom('INBOX', subject));
    assert.match(unfold(raw), /ARC-Seal: i=1; a=rsa-sha256; [^\r\n]*cv=none; d=beta\.test; s=lab1;/u);
    assert.match(unfold(raw), /ARC-Authentication-Results: i=1; mx2\.beta\.test;[^\r\n]* dmarc=pass/u);
    const results = headerOf(raw, 'Authentication-Results') ?? '';
    assert.match(results, /^Authentication-Results: mx1\.beta\.test;/u);
    assert.match(results, /arc=pass/u);
    assert.match(results, /dmarc=pass/u);
    assert.equal(await fetchFrom('Junk', subject), undefined);
  });
});
