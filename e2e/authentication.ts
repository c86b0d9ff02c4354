/**
 * Email authentication through the containers (issue 13): alice's mail leaves alpha-mta
 * DKIM-signed and reaches bob with beta-mx1's spf, dkim and dmarc pass, a signature that
 * Python's dkimpy (Debian's python3-dkim) verifies against the lab DNS on its host port;
 * a forged alice handed straight to beta-mx1 is refused 550 5.7.1 and never delivered;
 * mail held by the backup MX arrives sealed (ARC) and passed by beta-mx1, in the INBOX.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { LabMessage, MailLab } from './fixture.ts';
import { feedStdin } from '../shared/testing/processes.ts';

const WAIT_MS = 120_000;
const unique = (what: string) => `${what} ${randomBytes(6).toString('hex')}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The header section, continuation lines joined. */
function head(message: LabMessage): string {
  return (message.source.split(/\r?\n\r?\n/u)[0] ?? '').replace(/\r?\n[ \t]+/gu, ' ');
}

/** The topmost field of a name, unfolded. */
function field(message: LabMessage, name: string): string {
  return head(message).split(/\r?\n/u).find((line) => line.toLowerCase().startsWith(`${name.toLowerCase()}:`)) ?? '';
}

const DKIMPY = `
import sys, dkim, dns.resolver
res = dns.resolver.Resolver(configure=False)
res.nameservers = [sys.argv[1]]
res.port = int(sys.argv[2])
def dnsfunc(name, timeout=5):
    answer = res.resolve(name.decode().rstrip('.'), 'TXT', lifetime=timeout)
    return b''.join(b''.join(r.strings) for r in answer[:1])
message = sys.stdin.buffer.read()
d = dkim.DKIM(message)
count = len([l for l in message.split(b'\\n') if l.lower().startswith(b'dkim-signature:')])
print(' '.join(str(d.verify(idx=i, dnsfunc=dnsfunc)) for i in range(count)))
`;

function dkimpy(source: string, dns: { host: string; port: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    // Debian's interpreter, where python3-dkim is installed (a python3 earlier on PATH, pyenv's say, lacks it).
    const child = execFile('/usr/bin/python3', ['-c', DKIMPY, dns.host, String(dns.port)], { timeout: 30_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`dkimpy: ${error.message}\n${stderr}`)) : resolve(stdout.trim()),
    );
    feedStdin(child, Buffer.from(source.replace(/\r?\n/gu, '\r\n')));
  });
}

export async function signedPathPasses(lab: MailLab): Promise<void> {
  const subject = unique('signed');
  await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'Signed by alpha-mta.' });
  const message = await lab.waitForMessage('bob@beta.test', (m) => m.parsed.subject === subject, { timeoutMs: WAIT_MS });
  assert.match(head(message), /DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=alpha\.test;[^\r\n]* s=lab1;/u);
  const results = field(message, 'Authentication-Results');
  assert.match(results, /^Authentication-Results: mx1\.beta\.test;/u);
  assert.match(results, /spf=pass [^;]*smtp\.mailfrom=alpha\.test/u);
  assert.match(results, /dkim=pass [^;]*header\.d=alpha\.test/u);
  assert.match(results, /dmarc=pass [^;]*header\.from=alpha\.test/u);
  // A verifier that is not ours, asking the lab DNS (CoreDNS) on its host port for the keys.
  assert.equal(await dkimpy(message.source, lab.endpoints.dns), 'True True', 'both signatures (RSA lab1, Ed25519 lab1e) verify with dkimpy');
}

export async function forgedAliceRefused(lab: MailLab): Promise<void> {
  const subject = unique('forged');
  const messageId = `<${randomBytes(8).toString('hex')}@forger.example>`;
  const mx = nodemailer.createTransport({ host: lab.endpoints.betaMx1.host, port: lab.endpoints.betaMx1.port, ignoreTLS: true, name: 'forger.example' });
  const raw = [`From: Alice <alice@alpha.test>`, 'To: bob@beta.test', `Subject: ${subject}`, `Date: ${new Date().toUTCString()}`,
    `Message-ID: ${messageId}`, '', 'Send me your password.', ''].join('\r\n');
  const refusal = await mx.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test'] }, raw }).then(
    () => undefined,
    (error: { responseCode?: number; response?: string }) => error,
  );
  mx.close();
  assert.equal(refusal?.responseCode, 550, 'refused at the final dot');
  assert.match(refusal.response ?? '', /^550 5\.7\.1 Message refused by DMARC policy: From domain alpha\.test fails DMARC .*p=reject/u);
  await sleep(5_000);
  for (const mailbox of ['INBOX', 'Junk']) {
    assert.equal((await lab.messages('bob@beta.test', mailbox)).filter((m) => m.parsed.subject === subject).length, 0, `nothing in bob's ${mailbox}`);
  }
  assert.ok((await lab.queue('beta-mx1')).every((entry) => entry.messageId !== messageId), 'nothing queued on beta-mx1');
}

export async function backupSealPasses(lab: MailLab): Promise<void> {
  const subject = unique('sealed');
  await lab.compose.stop('beta-mx1');
  let started = false;
  try {
    const sent = await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'Through the backup MX.' });
    const deadline = Date.now() + WAIT_MS;
    while (!(await lab.queue('beta-mx2')).some((entry) => entry.messageId === sent.messageId)) {
      assert.ok(Date.now() < deadline, `${sent.messageId} waits in beta-mx2's queue`);
      await sleep(1_000);
    }
    await lab.compose.start('beta-mx1');
    started = true;
    await lab.flushQueue('beta-mx2');
    const message = await lab.waitForMessage('bob@beta.test', (m) => m.parsed.subject === subject, { timeoutMs: WAIT_MS });
    assert.match(head(message), /ARC-Seal: i=1; a=rsa-sha256; [^\r\n]*cv=none; d=beta\.test; s=lab1;/u);
    assert.match(head(message), /ARC-Authentication-Results: i=1; mx2\.beta\.test;[^\r\n]* dmarc=pass/u);
    const results = field(message, 'Authentication-Results');
    assert.match(results, /^Authentication-Results: mx1\.beta\.test;/u);
    assert.match(results, /arc=pass/u);
    assert.match(results, /dmarc=pass/u);
    assert.equal((await lab.messages('bob@beta.test', 'Junk')).filter((m) => m.parsed.subject === subject).length, 0, 'not junked');
  } finally {
    if (!started) await lab.compose.start('beta-mx1');
  }
}
