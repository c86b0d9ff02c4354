/**
 * The fault suite in compose (issue 15 item 4, the containers' half of faults/): one
 * stack, whose beta mail volume is a 64 MiB tmpfs (e2e/compose.faults.yaml), and the same
 * scenarios as `npm run test:faults`, counted the same way (faults/lib.ts): kill -9 of
 * every container in turn mid-burst (compose's restart policy brings each back), the
 * primary MX stopped for half a burst, the DNS paused, the mail volume full. bob's copies
 * are counted over IMAP (INBOX and Junk) by Message-ID.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { MAX_MESSAGE_BYTES } from '../services/mta/smtp/limits.ts';
import { count, report, sendBurstTo, settleWith, type BurstResult, type LabProbe } from '../faults/lib.ts';
import { MTA_SERVICES, labTestIn, startMailLab, type MailLab } from './fixture.ts';

const ARTIFACTS = fileURLToPath(new URL('../artifacts/e2e/faults/', import.meta.url));
/** Every container of the default stack, the journey's hops first, then the chain's MTAs and MDA once more. */
const KILL_ORDER = ['alpha-mta', 'beta-mx1', 'caller', 'beta-mda', 'beta-mx2', 'dns', 'beta-mra', 'alpha-mda', 'alpha-mra', 'mua', 'beta-mx1', 'beta-mda'];
const MESSAGES = 2000;
const KILL_EVERY = Math.floor(MESSAGES / (KILL_ORDER.length + 1));
const SETTLE_MS = 600_000;
const run = promisify(execFile);

/** Each container's restart count and whether the kernel's OOM killer ended it last. */
async function restarts(): Promise<Record<string, { restarts: number; oomKilled: boolean }>> {
  const ids = (await lab.compose.run(['ps', '--quiet'])).trim().split('\n').filter(Boolean);
  const { stdout } = await run('docker', ['inspect', '--format', '{{index .Config.Labels "com.docker.compose.service"}} {{.RestartCount}} {{.State.OOMKilled}}', ...ids]);
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((line) => line.split(' '))
      .map(([service, count, oom]) => [service ?? '', { restarts: Number(count), oomKilled: oom === 'true' }]),
  );
}

let lab: MailLab;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A test whose failure leaves every container's log in artifacts/e2e/faults/<name>/. */
const labTest = labTestIn(ARTIFACTS, () => lab);

/** Message-ID → copies in bob's INBOX and Junk, over IMAP. */
async function bobsCopies(label: string): Promise<Map<string, number>> {
  const client = new ImapFlow({
    ...lab.endpoints.betaImap,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: lab.ca, servername: 'imap.beta.test' },
    auth: { user: 'bob@beta.test', pass: lab.password },
    logger: false,
  });
  await client.connect();
  const copies = new Map<string, number>();
  try {
    for (const mailbox of ['INBOX', 'Junk']) {
      const opened = await client.mailboxOpen(mailbox, { readOnly: true }).catch(() => undefined);
      if (!opened || opened.exists === 0) continue;
      for await (const item of client.fetch('1:*', { envelope: true })) {
        const id = item.envelope?.messageId;
        if (id?.startsWith(`<${label}.`)) copies.set(id, (copies.get(id) ?? 0) + 1);
      }
    }
  } finally {
    await client.logout();
  }
  return copies;
}

function probe(label: string): LabProbe {
  return {
    async queueSizes() {
      const sizes: Record<string, number> = {};
      for (const mta of MTA_SERVICES) sizes[mta] = await lab.queue(mta).then((queue) => queue.length, () => -1);
      return sizes;
    },
    // Not answering (a container restarting): no copies seen this time round.
    copies: () => bobsCopies(label).catch(() => new Map<string, number>()),
    async flush() {
      for (const mta of MTA_SERVICES) await lab.flushQueue(mta).catch(() => undefined);
    },
  };
}

const submission = () => ({ ...lab.endpoints.alphaSubmission, ca: lab.ca });

async function aliceInbox(): Promise<number> {
  return (await lab.messages('alice@alpha.test')).length;
}

describe('fault suite in compose', () => {
  before(async () => {
    lab = await startMailLab({ projectName: 'mxlab-e2e-faults', extraFiles: ['e2e/compose.faults.yaml'], logDirOnFailure: join(ARTIFACTS, 'startup') });
  });
  after(async () => {
    await lab?.stop();
  });

  // First: the MTAs' DNS caches are still empty, so a silent DNS is felt at once.
  labTest('the DNS paused: mail waits at alpha-mta, nothing bounces, each arrives once after', async () => {
    const bouncesBefore = await aliceInbox();
    await lab.compose.run(['pause', 'dns']);
    let burst: BurstResult;
    try {
      burst = await sendBurstTo(submission(), { label: 'cdnssilent', count: 100 });
      assert.equal(burst.accepted.size, 100, `submission does not need DNS: ${burst.errors.join(' | ')}`);
      await sleep(8_000);
      await lab.flushQueue('alpha-mta');
      await sleep(8_000);
      const waiting = await lab.queue('alpha-mta');
      assert.equal(waiting.length, 100, 'every message waits at alpha-mta');
      assert.ok(waiting.every((entry) => entry.recipients.every((state) => state.status !== 'failed')), 'none failed');
      assert.equal((await bobsCopies('cdnssilent')).size, 0);
    } finally {
      await lab.compose.run(['unpause', 'dns']);
    }
    const counts = await settleWith(probe('cdnssilent'), burst, SETTLE_MS);
    report('compose: DNS paused', counts);
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(await aliceInbox(), bouncesBefore, 'no bounce reached the sender');
  });

  labTest('kill -9 of every container in turn mid-burst: every accepted message exactly once', async () => {
    const killed: string[] = [];
    const burst = await sendBurstTo(submission(), {
      label: 'ckillburst',
      count: MESSAGES,
      during: async (n) => {
        if (n % KILL_EVERY !== 0) return;
        const service = KILL_ORDER[n / KILL_EVERY - 1];
        if (!service) return;
        await lab.compose.kill(service);
        killed.push(service);
      },
    });
    for (const service of new Set(KILL_ORDER)) await lab.compose.waitHealthy(service);
    const counts = await settleWith(probe('ckillburst'), burst, SETTLE_MS);
    report('compose: kill -9 mid-burst', counts, { killed: killed.join(' ') });
    assert.equal(killed.length, KILL_ORDER.length);
    assert.ok(counts.accepted >= MESSAGES / 2, `most of the burst is accepted (${counts.accepted}); first errors: ${burst.errors.join(' | ')}`);
    assert.equal(counts.lost, 0, 'no accepted message is lost');
    assert.equal(counts.duplicated, 0, 'no message is delivered twice');
  });

  labTest('the primary MX stopped for the first half of a burst: the backup holds the mail, each arrives once', async () => {
    const COUNT = 1000;
    let held = 0;
    const burst = await sendBurstTo(submission(), {
      label: 'cprimarydown',
      count: COUNT,
      during: async (n) => {
        if (n === 1) await lab.compose.stop('beta-mx1');
        if (n === COUNT / 2) {
          // alpha-mta first tries the stopped primary (its address no longer answers, so each
          // attempt waits for the connect to fail) before it falls back to beta-mx2: give the
          // outage the time to reach the backup before it ends.
          const deadline = Date.now() + 120_000;
          while ((held = (await lab.queue('beta-mx2')).length) === 0 && Date.now() < deadline) await sleep(1_000);
          await lab.compose.start('beta-mx1');
        }
      },
    });
    const counts = await settleWith(probe('cprimarydown'), burst, SETTLE_MS);
    report('compose: primary MX down for half the burst', counts, { 'held on beta-mx2 at half time': held });
    assert.equal(counts.accepted, COUNT, burst.errors.join(' | '));
    assert.ok(held > 0, 'beta-mx2 held mail while beta-mx1 was down');
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
  });

  labTest('the mail volume full: temporary failures only, nothing half-written, each message once when room returns', async () => {
    // Fill beta's tmpfs mail volume up to its last 16 KiB, from inside beta-mda.
    const fill = `const fs = require('node:fs'); const s = fs.statfsSync('/var/mail/mxlab');
      fs.writeFileSync('/var/mail/mxlab/filler', Buffer.alloc(Math.max(0, s.bavail * s.bsize - 16384)));`;
    await lab.compose.exec('beta-mda', ['node', '-e', fill]);
    let burst: BurstResult;
    try {
      burst = await sendBurstTo(submission(), { label: 'cdiskfull', count: 50 });
      assert.equal(burst.accepted.size, 50, burst.errors.join(' | '));
      await sleep(5_000);
      await lab.flushQueue('beta-mx1');
      await sleep(5_000);
      const queued = await lab.queue('beta-mx1');
      const delivered = (await bobsCopies('cdiskfull').catch(() => new Map())).size;
      assert.ok(queued.length > 0, 'beta-mx1 keeps what the MDA could not store');
      assert.equal(queued.length + delivered + (await lab.queue('alpha-mta')).length, 50, 'every message is delivered or still queued');
      assert.ok(queued.every((entry) => entry.recipients.every((state) => state.status !== 'failed')), 'nothing bounced');
      assert.ok(
        queued.some((entry) => entry.recipients.some((state) => /^4\d\d .*insufficient system storage/u.test(state.lastReply ?? ''))),
        JSON.stringify(queued[0]),
      );
      const tmp = await lab.compose.exec('beta-mda', ['sh', '-c', 'ls -A /var/mail/mxlab/beta.test/bob/tmp 2>/dev/null || true']);
      assert.equal(tmp.trim(), '', 'no half-written file in tmp/');
    } finally {
      await lab.compose.exec('beta-mda', ['rm', '-f', '/var/mail/mxlab/filler']);
    }
    const counts = await settleWith(probe('cdiskfull'), burst, SETTLE_MS);
    report('compose: mail volume full', counts);
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(count(burst, await bobsCopies('cdiskfull')).delivered, 50);
  });

  labTest('a message at the SIZE limit: delivered once, and no container is restarted or OOM-killed under its mem_limit', async () => {
    const before = await restarts();
    const line = `${'0123456789abcdefghijklmnopqrstuvwxyz'.repeat(3).slice(0, 74)}\r\n`;
    const text = line.repeat(Math.floor((MAX_MESSAGE_BYTES - 64 * 1024) / line.length));
    const transport = nodemailer.createTransport({
      ...lab.endpoints.alphaSubmission,
      requireTLS: true,
      tls: { ca: lab.ca, servername: 'smtp.alpha.test' },
      auth: { user: 'alice@alpha.test', pass: lab.password },
      socketTimeout: 300_000,
    });
    try {
      await transport.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: 'at the SIZE limit', text, messageId: '<cbigmessage.1@faults.alpha.test>' });
    } finally {
      transport.close();
    }
    const deadline = Date.now() + 300_000;
    while (Date.now() < deadline && (await bobsCopies('cbigmessage').catch(() => new Map<string, number>())).size === 0) await sleep(2_000);
    // A second copy, or a crash after the first, would show within a few seconds.
    await sleep(5_000);
    const copies = await bobsCopies('cbigmessage');
    const after = await restarts();
    const changed = Object.entries(after).filter(([service, state]) => state.oomKilled || state.restarts !== before[service]?.restarts);
    process.stdout.write(`# compose: message at the SIZE limit (${(text.length / 1048576).toFixed(1)} MiB): copies ${copies.get('<cbigmessage.1@faults.alpha.test>') ?? 0}, restarted or OOM-killed: ${JSON.stringify(changed)}\n`);
    assert.equal(copies.get('<cbigmessage.1@faults.alpha.test>'), 1, 'delivered once');
    assert.deepEqual(changed, [], 'no container restarted or OOM-killed');
  });
});
