/**
 * The compose stack end to end (issue 3): one stack for the whole file, started with
 * testcontainers and torn down after. Each test saves every container's log to
 * artifacts/e2e/<test>/ when it fails.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { labTestIn, startMailLab, type MailLab } from './fixture.ts';
import { backupSealPasses, forgedAliceRefused, signedPathPasses } from './authentication.ts';
import { eicarIsRefusedAndBounced, gtubeLandsInJunk } from './filters.ts';
import { webmailAliceToBob } from './webmail.ts';
import { smtpDialogue, type ProbeOptions } from './smtp-probe.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/e2e/', import.meta.url));
const QUEUE_POLL_MS = 1_000;
const QUEUE_WAIT_MS = 120_000;
/** After delivery, how long a duplicate would have to show up. */
const DUPLICATE_GRACE_MS = 8_000;

let lab: MailLab;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (what: string) => `${what} ${randomBytes(6).toString('hex')}`;

/** A test whose failure leaves every container's log in artifacts/e2e/<name>/. */
const labTest = labTestIn(ARTIFACTS, () => lab);

/** Received headers, unfolded, in order from the top (the last hop first). */
function receivedHeaders(source: string): string[] {
  const head = source.split(/\r?\n\r?\n/u)[0] ?? '';
  return head
    .replace(/\r?\n[ \t]+/gu, ' ')
    .split(/\r?\n/u)
    .filter((line) => /^received:/iu.test(line));
}

describe('mxlab compose stack', () => {
  before(async () => {
    lab = await startMailLab({ logDirOnFailure: join(ARTIFACTS, 'startup') });
  });

  after(async () => {
    await lab?.stop();
  });

  labTest('alice → bob through the containers, read over IMAP and POP3', async () => {
    const subject = unique('journey');
    const sent = await lab.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'Hello Bob.' });
    const message = await lab.waitForMessage('bob@beta.test', (m) => m.parsed.subject === subject);
    assert.equal(message.parsed.messageId, sent.messageId);
    assert.match(message.parsed.text ?? '', /Hello Bob\./u);

    const received = receivedHeaders(message.source);
    const byAlpha = received.findIndex((line) => / by mx\.alpha\.test /u.test(line));
    const byBeta = received.findIndex((line) => / by mx1\.beta\.test /u.test(line));
    assert.ok(byAlpha >= 0, `a Received header by mx.alpha.test in:\n${received.join('\n')}`);
    assert.ok(byBeta >= 0, `a Received header by mx1.beta.test in:\n${received.join('\n')}`);
    assert.ok(byBeta < byAlpha, 'mx1.beta.test received it after mx.alpha.test');
    assert.match(message.source, /^Return-Path: <alice@alpha\.test>/imu);

    const pop3 = await lab.pop3Messages('bob@beta.test');
    assert.equal(pop3.filter((source) => source.includes(`Subject: ${subject}`)).length, 1);
  });

  labTest('the dns service answers MX and SRV on the host port', async () => {
    const resolver = new Resolver({ timeout: 3000, tries: 2 });
    resolver.setServers([`${lab.endpoints.dns.host}:${lab.endpoints.dns.port}`]);
    const mxOf = async (domain: string) =>
      (await resolver.resolveMx(domain)).map(({ exchange, priority }) => ({ exchange, priority })).sort((a, b) => a.priority - b.priority);
    const mx = await mxOf('beta.test');
    assert.deepEqual(mx, [
      { exchange: 'mx1.beta.test', priority: 10 },
      { exchange: 'mx2.beta.test', priority: 20 },
    ]);
    assert.deepEqual(await mxOf('alpha.test'), [{ exchange: 'mx.alpha.test', priority: 10 }]);
    assert.deepEqual(await resolver.resolve4('mx1.beta.test'), ['172.28.0.20']);
    const submission = await resolver.resolveSrv('_submission._tcp.alpha.test');
    assert.deepEqual(
      submission.map(({ name, port }) => ({ name, port })),
      [{ name: 'smtp.alpha.test', port: 587 }],
    );
    const imap = await resolver.resolveSrv('_imap._tcp.beta.test');
    assert.deepEqual(
      imap.map(({ name, port }) => ({ name, port })),
      [{ name: 'imap.beta.test', port: 143 }],
    );
    await assert.rejects(resolver.resolve4('example.com'), 'names outside the lab are not resolved');

    const overTcp = await new Promise<string>((resolve, reject) => {
      const { host, port } = lab.endpoints.dns;
      execFile('dig', ['+tcp', '+short', '+time=3', `@${host}`, '-p', String(port), 'beta.test', 'MX'], (error, stdout) =>
        error ? reject(error) : resolve(stdout),
      );
    });
    assert.deepEqual(overTcp.trim().split('\n').sort(), ['10 mx1.beta.test.', '20 mx2.beta.test.'], 'MX over TCP');
  });

  labTest('backup MX: beta-mx2 queues while beta-mx1 is down, delivers exactly once after', async () => {
    const subject = unique('backup');
    await lab.compose.stop('beta-mx1');
    let started = false;
    try {
      const sent = await lab.sendMail({ from: 'alice@alpha.test', to: 'carol@beta.test', subject, text: 'Held by mx2.' });
      const deadline = Date.now() + QUEUE_WAIT_MS;
      let held = false;
      while (!held && Date.now() < deadline) {
        held = (await lab.queue('beta-mx2')).some((entry) => entry.messageId === sent.messageId);
        if (!held) await sleep(QUEUE_POLL_MS);
      }
      assert.ok(held, `${sent.messageId} waits in beta-mx2's queue`);
      const early = await lab.messages('carol@beta.test');
      assert.equal(early.filter((m) => m.parsed.subject === subject).length, 0, 'not delivered while mx1 is down');

      await lab.compose.start('beta-mx1');
      started = true;
      await lab.flushQueue('beta-mx2');
      await lab.waitForMessage('carol@beta.test', (m) => m.parsed.subject === subject);
      await sleep(DUPLICATE_GRACE_MS);
      const copies = (await lab.messages('carol@beta.test')).filter((m) => m.parsed.subject === subject);
      assert.equal(copies.length, 1, 'delivered exactly once');
      assert.ok(
        (await lab.queue('beta-mx2')).every((entry) => entry.messageId !== sent.messageId),
        'gone from beta-mx2 queue',
      );
    } finally {
      if (!started) await lab.compose.start('beta-mx1');
    }
  });

  labTest('no MTA port is an open relay', async () => {
    const { endpoints, ca } = lab;
    const ports: { name: string; probe: ProbeOptions; outsiders: string[] }[] = [
      {
        name: 'alpha MX',
        probe: { ...endpoints.alphaMx, tls: 'none', ca, servername: 'mx.alpha.test' },
        outsiders: ['victim@example.com', 'bob@beta.test'],
      },
      {
        name: 'beta-mx1 MX',
        probe: { ...endpoints.betaMx1, tls: 'none', ca, servername: 'mx1.beta.test' },
        outsiders: ['victim@example.com', 'alice@alpha.test'],
      },
      {
        name: 'beta-mx2 MX',
        probe: { ...endpoints.betaMx2, tls: 'none', ca, servername: 'mx2.beta.test' },
        outsiders: ['victim@example.com', 'alice@alpha.test'],
      },
      {
        name: 'alpha submission',
        probe: { ...endpoints.alphaSubmission, tls: 'starttls', ca, servername: 'smtp.alpha.test' },
        outsiders: ['victim@example.com'],
      },
      {
        name: 'alpha submissions',
        probe: { ...endpoints.alphaSubmissions, tls: 'implicit', ca, servername: 'smtp.alpha.test' },
        outsiders: ['victim@example.com'],
      },
      {
        name: 'beta submission',
        probe: { ...endpoints.betaSubmission, tls: 'starttls', ca, servername: 'smtp.beta.test' },
        outsiders: ['victim@example.com'],
      },
      {
        name: 'beta submissions',
        probe: { ...endpoints.betaSubmissions, tls: 'implicit', ca, servername: 'smtp.beta.test' },
        outsiders: ['victim@example.com'],
      },
    ];
    for (const { name, probe, outsiders } of ports) {
      for (const outsider of outsiders) {
        const replies = await smtpDialogue(probe, ['MAIL FROM:<spammer@example.net>', `RCPT TO:<${outsider}>`]);
        const greeting = replies[0];
        assert.equal(greeting?.code, 220, `${name} greets`);
        const last = replies.at(-1);
        assert.ok(last && last.code >= 500 && last.code < 600, `${name} refuses ${outsider}: ${last?.text}`);
      }
    }
  });

  labTest('the caller: EICAR refused at beta-mx1 and bounced to alice', () => eicarIsRefusedAndBounced(lab));

  labTest('the caller: GTUBE tagged and filed into Junk', () => gtubeLandsInJunk(lab));

  labTest('email authentication: alice → bob signed, spf/dkim/dmarc pass, verified by dkimpy against the lab DNS', () => signedPathPasses(lab));

  labTest('email authentication: a forged alice straight to beta-mx1 is refused 550 5.7.1, nothing queued', () => forgedAliceRefused(lab));

  labTest('email authentication: through the backup MX, sealed with ARC, arc=pass and dmarc=pass at beta-mx1', () => backupSealPasses(lab));

  labTest('web mail container in a browser: alice writes, bob reads', () =>
    webmailAliceToBob(lab, join(ARTIFACTS, 'webmail')),
  );
});
