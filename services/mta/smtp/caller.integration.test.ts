import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeScanRequest, SCAN_PATH, SCAN_REQUEST_HEADER, type ScanRequest, type ScanVerdict } from '../../../shared/caller-api.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { requestScan } from './caller-client.ts';
import { createTestLab, MemoryQueue, RawSmtp, type TestLab } from '../testing/smtp.ts';

type Script = (request: ScanRequest, body: string) => { status?: number; verdict?: ScanVerdict; delayMs?: number; raw?: string };

function verdict(overrides: Partial<ScanVerdict>): ScanVerdict {
  return {
    version: 1,
    action: 'accept',
    headers: [{ name: 'X-Virus-Scanned', value: 'mxlab caller' }],
    spam: { score: 0.5, tagScore: 5, rejectScore: null, isSpam: false },
    virus: { infected: false, names: [] },
    engines: [],
    elapsedMs: 3,
    ...overrides,
  };
}

/** A fake caller: records each scan request and answers what the current script says. */
async function fakeCaller(): Promise<{ url: string; seen: { request: ScanRequest; body: string; contentType: string | undefined; remotePort: number | undefined }[]; script: { next: Script }; close(): Promise<void> }> {
  const seen: { request: ScanRequest; body: string; contentType: string | undefined; remotePort: number | undefined }[] = [];
  const script: { next: Script } = { next: () => ({ verdict: verdict({}) }) };
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = decodeScanRequest(String(req.headers[SCAN_REQUEST_HEADER] ?? ''));
      const body = Buffer.concat(chunks).toString('latin1');
      seen.push({ request, body, contentType: req.headers['content-type'], remotePort: req.socket.remotePort });
      assert.equal(req.url, SCAN_PATH);
      const answer = script.next(request, body);
      const send = (): void => {
        res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
        res.end(answer.raw ?? JSON.stringify(answer.verdict));
      };
      if (answer.delayMs) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, answer.delayMs);
        timers.add(timer);
      } else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    script,
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const MESSAGE = 'From: someone@example.org\r\nTo: alice@alpha.test\r\nSubject: scan me\r\nMessage-ID: <scan@example.org>\r\n\r\nbody\r\n';

async function deliver(port: number, message = MESSAGE): Promise<string> {
  const client = await RawSmtp.connect(port);
  try {
    await client.read();
    await client.command('EHLO sender.example');
    await client.command('MAIL FROM:<someone@example.org>');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 250);
    assert.equal((await client.command('DATA')).code, 354);
    return (await client.command(`${message}.`)).text;
  } finally {
    client.close();
  }
}

describe('MX with the caller (content filter) before DATA is answered', () => {
  let lab: TestLab;
  let caller: Awaited<ReturnType<typeof fakeCaller>>;
  let mta: MtaHandle;
  let queue: MemoryQueue;
  let port: number;

  before(async () => {
    lab = await createTestLab();
    caller = await fakeCaller();
    queue = new MemoryQueue();
    mta = await startMta(
      lab.config({
        MTA_SUBMISSION_LISTEN: '',
        MTA_SUBMISSIONS_LISTEN: '',
        MTA_CALLER_URL: caller.url,
        MTA_CALLER_TIMEOUT_MS: '700',
        MTA_SPAM_TAG_SCORE: '4',
        MTA_SPAM_REJECT_SCORE: '12',
      }),
      { queue, earlyTalkerWaitMs: 0 },
    );
    port = mta.smtp[0]?.port ?? 0;
  });

  after(async () => {
    await mta.close();
    await caller.close();
    await lab.remove();
  });

  it('posts the message with envelope and policy, and prepends tag headers below Received', async () => {
    caller.script.next = () => ({
      verdict: verdict({
        action: 'tag',
        headers: [
          { name: 'X-Spam-Flag', value: 'YES' },
          { name: 'X-Spam-Score', value: '6.1' },
          { name: 'X-Spam-Status', value: 'Yes, score=6.1 required=4.0\n tests=GTUBE' },
          { name: 'X-Virus-Scanned', value: 'mxlab caller' },
        ],
        spam: { score: 6.1, tagScore: 4, rejectScore: 12, isSpam: true },
      }),
    });
    const reply = await deliver(port);
    const queued = queue.requests.at(-1);
    assert.ok(queued);
    assert.equal(reply, `250 2.0.0 Ok: queued as ${queued.queueId}`);
    const scan = caller.seen.at(-1);
    assert.ok(scan);
    assert.equal(scan.contentType, 'message/rfc822');
    assert.equal(scan.body, MESSAGE);
    assert.deepEqual(scan.request.rcptTo, ['alice@alpha.test']);
    assert.equal(scan.request.mailFrom, 'someone@example.org');
    assert.equal(scan.request.helo, 'sender.example');
    assert.equal(scan.request.clientAddress, '127.0.0.1');
    assert.equal(scan.request.queueId, queued.queueId);
    assert.equal(scan.request.messageId, '<scan@example.org>');
    assert.deepEqual(scan.request.policy, { tagScore: 4, rejectScore: 12 });
    const text = queued.message.toString('latin1');
    assert.match(
      text,
      /^Received: [^]*?\r\nX-Spam-Flag: YES\r\nX-Spam-Score: 6\.1\r\nX-Spam-Status: Yes, score=6\.1 required=4\.0\r\n\ttests=GTUBE\r\nX-Virus-Scanned: mxlab caller\r\nFrom: someone@example\.org\r\n/u,
    );
  });

  it("removes the sender's own X-Virus-*/X-Spam-* fields: only the caller's verdict is kept", async () => {
    caller.script.next = () => ({ verdict: verdict({ action: 'accept', headers: [{ name: 'X-Virus-Status', value: 'Infected (Eicar)' }] }) });
    const forged = `X-Virus-Status: Clean\r\nX-Spam-Flag: NO\r\nx-spam-status: No, score=-50\r\n\tforged=yes\r\n${MESSAGE}`;
    assert.match(await deliver(port, forged), /^250 /u);
    const text = queue.requests.at(-1)?.message.toString('latin1') ?? '';
    assert.match(text, /^Received: [^]*?\r\nX-Virus-Status: Infected \(Eicar\)\r\nFrom: someone@example\.org\r\n/u);
    assert.doesNotMatch(text, /Clean|X-Spam-|forged=yes/iu);
  });

  it('refuses a virus with 554 5.7.1 and queues nothing', async () => {
    const count = queue.requests.length;
    caller.script.next = () => ({
      verdict: verdict({ action: 'reject', virus: { infected: true, names: ['Eicar-Test-Signature'] }, smtp: { code: 554, enhanced: '5.7.1', message: 'virus' } }),
    });
    assert.equal(await deliver(port), '554 5.7.1 Message refused: virus found: Eicar-Test-Signature');
    assert.equal(queue.requests.length, count);
  });

  it('refuses spam at or over MTA_SPAM_REJECT_SCORE with 550 5.7.1', async () => {
    caller.script.next = () => ({ verdict: verdict({ action: 'reject', spam: { score: 1000, tagScore: 4, rejectScore: 12, isSpam: true } }) });
    assert.equal(await deliver(port), '550 5.7.1 Message refused as spam (score 1000)');
  });

  it('answers 451 4.7.1 to a tempfail verdict', async () => {
    caller.script.next = () => ({ verdict: verdict({ action: 'tempfail', smtp: { code: 451, enhanced: '4.7.1', message: 'engine down' } }) });
    assert.equal(await deliver(port), '451 4.7.1 Message could not be scanned, try again later');
  });

  it('answers 451 4.7.1 when the caller is slow, within the timeout', async () => {
    caller.script.next = () => ({ verdict: verdict({}), delayMs: 5_000 });
    const started = Date.now();
    assert.equal(await deliver(port), '451 4.7.1 Message could not be scanned, try again later');
    assert.ok(Date.now() - started < 3_000);
  });

  it('answers 451 4.7.1 when the caller answers garbage', async () => {
    caller.script.next = () => ({ status: 500, raw: 'oops' });
    assert.equal(await deliver(port), '451 4.7.1 Message could not be scanned, try again later');
  });

  it('answers 451 4.7.1 when the caller is down; fail-open accepts unscanned', async () => {
    const down = await fakeCaller();
    await down.close();
    const closedUrl = down.url;
    const failClosed = await startMta(lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_CALLER_URL: closedUrl }), { queue, earlyTalkerWaitMs: 0 });
    const failOpen = await startMta(
      lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_CALLER_URL: closedUrl, MTA_CALLER_FAIL_OPEN: 'true' }),
      { queue, earlyTalkerWaitMs: 0 },
    );
    try {
      assert.equal(await deliver(failClosed.smtp[0]?.port ?? 0), '451 4.7.1 Message could not be scanned, try again later');
      assert.match(await deliver(failOpen.smtp[0]?.port ?? 0), /^250 2\.0\.0 Ok: queued as /u);
      assert.doesNotMatch(queue.requests.at(-1)?.message.toString() ?? '', /X-Virus-Scanned/u);
    } finally {
      await failClosed.close();
      await failOpen.close();
    }
  });
});

describe('chaos rules', () => {
  let lab: TestLab;
  let mta: MtaHandle;

  before(async () => {
    lab = await createTestLab();
    mta = await startMta(lab.config({ MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '' }), { queue: new MemoryQueue(), earlyTalkerWaitMs: 0 });
  });

  after(async () => {
    await mta.close();
    await lab.remove();
  });

  it('answer a chosen code at connect, helo, mail, rcpt and after the data, then expire', async () => {
    const port = mta.smtp[0]?.port ?? 0;
    const add = (rule: unknown) => assert.equal(mta.chaos.add(rule).ok, true);
    add({ id: 'c', stage: 'connect', reply: { code: 421, enhanced: '4.3.2', text: 'Lab says go away' }, durationSeconds: 60 });
    const refused = await RawSmtp.connect(port);
    assert.equal((await refused.read()).text, '421 4.3.2 Lab says go away');
    assert.ok(await refused.closedByServer());
    mta.chaos.remove('c');

    add({ id: 'h', stage: 'helo', reply: { code: 554 }, durationSeconds: 60 });
    const helo = await RawSmtp.connect(port);
    await helo.read();
    assert.match((await helo.command('EHLO x.example')).text, /^554 5\.0\.0 /u);
    helo.close();
    mta.chaos.remove('h');

    add({ id: 'r', stage: 'rcpt', reply: { code: 451, enhanced: '4.3.0' }, durationSeconds: 60 });
    add({ id: 'm', stage: 'mail', delayMs: 300, durationSeconds: 60 });
    const client = await RawSmtp.connect(port);
    await client.read();
    await client.command('EHLO x.example');
    const started = Date.now();
    assert.equal((await client.command('MAIL FROM:<a@example.org>')).code, 250);
    assert.ok(Date.now() - started >= 280, 'MAIL reply was delayed');
    assert.match((await client.command('RCPT TO:<alice@alpha.test>')).text, /^451 4\.3\.0 /u);
    mta.chaos.remove('r');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 250);
    add({ stage: 'after-data', reply: { code: 552, enhanced: '5.2.2', text: 'Mailbox full (chaos)' }, until: new Date(Date.now() + 60_000).toISOString() });
    await client.command('DATA');
    assert.equal((await client.command(`${MESSAGE}.`)).text, '552 5.2.2 Mailbox full (chaos)');
    client.close();

    mta.chaos.clear();
    assert.equal(mta.chaos.add({ stage: 'rcpt', reply: { code: 450 }, until: new Date(Date.now() - 1).toISOString() }).ok, false);
    assert.deepEqual(mta.chaos.list(), []);
  });
});

describe('requestScan over HTTP', () => {
  it('reuses one kept-alive connection for consecutive scans', async () => {
    const caller = await fakeCaller();
    try {
      const settings = { url: caller.url, timeoutMs: 2_000, failOpen: false, tagScore: 5, rejectScore: null };
      const request: ScanRequest = { queueId: 'Q1', clientAddress: '127.0.0.1', helo: 'x.example', mailFrom: '', rcptTo: ['alice@alpha.test'], policy: { tagScore: 5, rejectScore: null } };
      for (let i = 0; i < 3; i++) assert.equal((await requestScan(settings, request, Buffer.from(MESSAGE))).ok, true);
      assert.equal(caller.seen.length, 3);
      assert.equal(new Set(caller.seen.map((scan) => scan.remotePort)).size, 1);
    } finally {
      await caller.close();
    }
  });
});
