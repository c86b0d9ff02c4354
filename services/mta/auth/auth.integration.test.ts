/**
 * Issue 13 through the no-Docker lab (loopback net 127.60): alice's signed mail reaches
 * bob with spf/dkim/dmarc=pass and a signature that Python's dkimpy verifies against the
 * lab DNS; a forged alice is refused at beta-mx1 with 550 5.7.1; a beta message whose
 * body changed after signing lands in Junk; the chaos switch `alter-body` on beta-mx1
 * (dkim=fail, SPF still carries DMARC) and on beta-mx2 (everything fails, refused, and the
 * bounce shows which hop changed it); mail through the backup MX arrives arc=pass.
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

  /** bob's (or alice's) message with this subject in `folder`, as raw text, once it is there. */
  async function fetchFrom(folder: string, subject: string, user = 'bob@beta.test'): Promise<string | undefined> {
    const alpha = user.endsWith('@alpha.test');
    const imap = new ImapFlow({
      host: '127.0.0.1', port: Number(alpha ? env.MXLAB_ALPHA_IMAP_PORT : env.MXLAB_BETA_IMAP_PORT), secure: false,
      auth: { user, pass: 'secret' }, tls: { ca, servername: alpha ? 'imap.alpha.test' : 'imap.beta.test' }, logger: false,
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

  /** Adds a fault rule on an MTA's admin endpoint (`.20` beta-mx1, `.21` beta-mx2); returns its remover. */
  async function chaosRule(mta: string, rule: Record<string, unknown>): Promise<() => Promise<number>> {
    const admin = `http://${NET}.0.${mta}:8026`;
    const added = await fetch(`${admin}/chaos/rules`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(rule) });
    assert.equal(added.status, 201, await added.text());
    return async () => {
      const shown = (await (await fetch(`${admin}/chaos/rules/${String(rule.id)}`)).json()) as { fired: number };
      await fetch(`${admin}/chaos/rules/${String(rule.id)}`, { method: 'DELETE' });
      return shown.fired;
    };
  }

  it('a chaos switch on beta-mx1 changes one byte of the body it relays: dkim=fail at alpha-mta, yet dmarc=pass by aligned SPF', async () => {
    const remove = await chaosRule('20', { id: 'alter-to-alpha', stage: 'outbound', match: { domain: 'alpha.test' }, fault: 'alter-body' });
    let fired: number;
    try {
      const subject = `altered in transit ${Date.now()}`;
      const carol = nodemailer.createTransport({
        host: '127.0.0.1', port: Number(env.MXLAB_BETA_SUBMISSION_PORT), requireTLS: true,
        tls: { ca, servername: 'smtp.beta.test' }, auth: { user: 'carol@beta.test', pass: 'secret' },
      });
      assert.match((await carol.sendMail({ from: 'Carol <carol@beta.test>', to: 'alice@alpha.test', subject, text: 'Lunch at noon.\n' })).response, /^250 /u);

      // beta-mx1 itself sent it, from an address beta.test's SPF names: SPF passes aligned, and carries DMARC.
      const raw = await until('the message in alice\'s INBOX', () => fetchFrom('INBOX', subject, 'alice@alpha.test'));
      assert.match(raw, /\r\n\r\nlunch at noon\.\r\n$/u, 'the first letter of the body was changed');
      const results = headerOf(raw, 'Authentication-Results') ?? '';
      assert.match(results, /^Authentication-Results: mx\.alpha\.test;/u);
      assert.match(results, /dkim=fail \(body hash did not verify\) [^;]*header\.d=beta\.test/u);
      assert.match(results, /spf=pass [^;]*smtp\.mailfrom=beta\.test/u);
      assert.match(results, /dmarc=pass [^;]*header\.from=beta\.test/u);
      assert.match(raw, /^X-Spam-Status: .*DKIM_INVALID/mu);
    } finally {
      fired = await remove();
    }
    assert.equal(fired, 1);
  });

  it('altered at the backup MX: beta-mx1 refuses alice\'s mail (dkim, spf, arc, dmarc fail); the bounce names the hop', async () => {
    const labctl = (...args: string[]) => runProcess(process.execPath, [join(ROOT, 'scripts', 'labctl.ts'), ...args], { timeoutMs: 60_000, env });
    const mx2Queue = async () => ((await (await fetch(`http://${NET}.0.21:8026/queue`)).json()) as { messages: unknown[] }).messages;
    assert.equal((await labctl('stop', 'beta-mx1')).code, 0);
    const remove = await chaosRule('21', { id: 'alter-to-mx1', stage: 'outbound', match: { exchange: 'mx1.beta.test' }, fault: 'alter-body' });
    let fired: number;
    const subject = `backup alters ${Date.now()}`;
    try {
      const transport = nodemailer.createTransport({
        host: '127.0.0.1', port: Number(env.MXLAB_ALPHA_SUBMISSION_PORT), requireTLS: true,
        tls: { ca, servername: 'smtp.alpha.test' }, auth: { user: 'alice@alpha.test', pass: 'secret' },
      });
      await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'Through the backup MX.\n' });
      await until('the message in beta-mx2\'s queue', async () => ((await mx2Queue()).length > 0 ? true : undefined));
    } finally {
      assert.equal((await labctl('start', 'beta-mx1')).code, 0);
    }
    try {
      await fetch(`http://${NET}.0.21:8026/queue/flush`, { method: 'POST' });
      // The bounce comes from beta-mx2 (null sender): its HELO name's SPF record passes it, aligned.
      const bounce = await until('the bounce in alice\'s INBOX', () => fetchFrom('INBOX', 'Undelivered Mail Returned to Sender', 'alice@alpha.test'));
      const text = unfold(bounce);
      assert.match(text, new RegExp(`Subject: ${subject}`, 'u'));
      assert.match(text, /550 5\.7\.1 Message refused by DMARC policy: From domain alpha\.test fails DMARC \(spf=fail, dkim=fail d=alpha\.test/u);
      assert.match(headerOf(bounce, 'Authentication-Results') ?? '', /spf=pass [^;]*smtp\.helo=mx2\.beta\.test[^;]*; .*dmarc=pass/u);
      // Its copy of the headers holds beta-mx2's own check, made before it relayed: dkim=pass. So beta-mx2 changed it.
      assert.match(text, /Authentication-Results: mx2\.beta\.test; dkim=pass header\.d=alpha\.test/u);
      assert.equal(await fetchFrom('INBOX', subject), undefined);
      assert.equal(await fetchFrom('Junk', subject), undefined);
    } finally {
      fired = await remove();
    }
    assert.ok(fired >= 1);
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
    // The caller scored SPF where the message entered (beta-mx2), not from beta-mx2's address.
    assert.doesNotMatch(headerOf(raw, 'X-Spam-Status') ?? '', /SPF_FAIL/u);
    assert.equal(await fetchFrom('Junk', subject), undefined);
  });
});
