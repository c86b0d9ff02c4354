import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadCallerConfig } from '../caller/config.ts';
import { startCaller, type RunningCaller } from '../caller/server.ts';
import { startMta, type MtaHandle } from './server.ts';
import { createTestLab, MemoryQueue, RawSmtp, type TestLab } from './testing/smtp.ts';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';

async function send(port: number, body: string): Promise<string> {
  const client = await RawSmtp.connect(port);
  try {
    await client.read();
    await client.command('EHLO mx1.beta.test');
    await client.command('MAIL FROM:<bob@beta.test>');
    assert.equal((await client.command('RCPT TO:<alice@alpha.test>')).code, 250);
    await client.command('DATA');
    const message = `From: bob@beta.test\r\nTo: alice@alpha.test\r\nSubject: lab\r\nDate: Mon, 23 Nov 2026 16:00:00 +0000\r\nMessage-ID: <${Date.now()}.${Math.random()}@beta.test>\r\n\r\n${body}\r\n`;
    return (await client.command(`${message}.`)).text;
  } finally {
    client.close();
  }
}

describe('MX and the real caller service (built-in engines)', () => {
  let lab: TestLab;
  let caller: RunningCaller;
  let tagging: MtaHandle;
  let rejecting: MtaHandle;
  let queue: MemoryQueue;

  before(async () => {
    lab = await createTestLab();
    caller = await startCaller(loadCallerConfig({ CALLER_LISTEN: '127.0.0.1:0', CALLER_DNS_SERVER: '127.0.0.1:9', CALLER_ENGINE_TIMEOUT_MS: '1000' }));
    queue = new MemoryQueue();
    const env = { MTA_SUBMISSION_LISTEN: '', MTA_SUBMISSIONS_LISTEN: '', MTA_CALLER_URL: `http://127.0.0.1:${caller.http[0]?.port}` };
    tagging = await startMta(lab.config(env), { queue, earlyTalkerWaitMs: 0 });
    rejecting = await startMta(lab.config({ ...env, MTA_SPAM_REJECT_SCORE: '10' }), { queue, earlyTalkerWaitMs: 0 });
  });

  after(async () => {
    await tagging.close();
    await rejecting.close();
    await caller.close();
    await lab.remove();
  });

  it('refuses EICAR at DATA with 554 5.7.1', async () => {
    assert.match(await send(tagging.smtp[0]?.port ?? 0, EICAR), /^554 5\.7\.1 Message refused: virus found: /u);
  });

  it('tags GTUBE without a reject score (lab default), with the verdict headers under Received', async () => {
    assert.match(await send(tagging.smtp[0]?.port ?? 0, GTUBE), /^250 2\.0\.0 Ok: queued as /u);
    const text = queue.requests.at(-1)?.message.toString('latin1') ?? '';
    const header = text.slice(0, text.indexOf('\r\n\r\n'));
    assert.match(header, /^Received: /u);
    assert.match(header, /\r\nX-Spam-Flag: YES\r\n/u);
    assert.match(header, /\r\nX-Spam-Status: Yes, [^\r]*GTUBE/u);
    assert.match(header, /\r\nX-Virus-Scanned: /u);
  });

  it('refuses GTUBE with 550 5.7.1 when MTA_SPAM_REJECT_SCORE is set', async () => {
    assert.match(await send(rejecting.smtp[0]?.port ?? 0, GTUBE), /^550 5\.7\.1 /u);
  });

  it('accepts clean mail with X-Virus-Scanned and no spam flag', async () => {
    assert.match(await send(tagging.smtp[0]?.port ?? 0, 'hello alice'), /^250 /u);
    const text = queue.requests.at(-1)?.message.toString('latin1') ?? '';
    assert.match(text, /\r\nX-Virus-Scanned: /u);
    assert.doesNotMatch(text, /X-Spam-Flag: YES/u);
  });
});
