/**
 * Hostile content through the MX port (issue 19, High 1 and 2): an MTA in this process,
 * the caller as its own process (so its event loop is its own) on this file's loopback
 * net 127.80.1.0/24, the lab DNS in this process.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../shared/log.ts';
import { startDnsServer, type DnsServer } from '../dns/server.ts';
import { startMta, type MtaHandle } from '../mta/server.ts';
import { createTestLab, MemoryQueue, RawSmtp, type Reply, type TestLab } from '../mta/testing/smtp.ts';
import { EICAR, MAX_ZIP_DEPTH, MAX_ZIP_ENTRIES, MAX_ZIP_ENTRY_BYTES } from './engines/eicar.ts';
import { MAX_MIME_PARTS } from './mime.ts';
import { message, withAttachment } from './testing/messages.ts';
import { createZip } from './testing/zip.ts';

const ZONES_DIR = fileURLToPath(new URL('../dns/zones/', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const CALLER = '127.80.1.5';
const CALLER_PORT = 8025;
/** The MTA scans from here, the one address in CALLER_CLIENTS, with the token. */
const MTA_SOURCE = '127.80.1.10';
const TOKEN = 'hostile-test-token-0123456789';
const STARTUP_TIMEOUT_MS = 30_000;
/** The MTA waits this long for a verdict; the old address regex held the caller ~20 s on the 8 MiB header. */
const CALLER_TIMEOUT_MS = 8_000;

async function waitForCaller(child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`caller exited ${child.exitCode}: ${output()}`);
    try {
      if ((await fetch(`http://${CALLER}:${CALLER_PORT}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`caller not up within ${STARTUP_TIMEOUT_MS} ms: ${output()}`);
}

/** One SMTP transaction over a raw socket; the reply to the final dot. */
async function deliver(port: number, raw: Buffer): Promise<Reply> {
  const client = await RawSmtp.connect(port);
  try {
    await client.read();
    await client.command('EHLO mx.alpha.test');
    assert.equal((await client.command('MAIL FROM:<alice@alpha.test>')).code, 250);
    assert.equal((await client.command('RCPT TO:<bob@beta.test>')).code, 250);
    assert.equal((await client.command('DATA')).code, 354);
    const text = raw.toString('latin1').replace(/\r\n\./gu, '\r\n..');
    client.write(Buffer.from(text.endsWith('\r\n') ? text : `${text}\r\n`, 'latin1'));
    return await client.command('.');
  } finally {
    client.close();
  }
}

/** The caller's longest event-loop delay so far, from its /metrics. */
async function callerLoopDelayMs(): Promise<number> {
  const metrics = await (await fetch(`http://${CALLER}:${CALLER_PORT}/metrics`)).text();
  const match = /^mxlab_caller_event_loop_delay_max_seconds ([\d.]+)$/mu.exec(metrics);
  assert.ok(match?.[1], metrics);
  return Number(match[1]) * 1000;
}

/** A From: header of `bytes` folded lines, each under RFC 5322's 998 octets, and no address in it. */
function foldedFrom(bytes: number): string {
  const line = 'x'.repeat(990);
  return Array.from({ length: Math.ceil(bytes / (line.length + 3)) }, () => line).join('\r\n ');
}

describe('hostile content through the MX port, with the caller as its own process', () => {
  let lab: TestLab;
  let dns: DnsServer;
  let caller: ChildProcess;
  let callerOutput = '';
  let mta: MtaHandle;
  let port: number;

  before(async () => {
    dns = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: ZONES_DIR, addressMode: 'loopback', logger: createLogger('dns') });
    caller = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        CALLER_LISTEN: `${CALLER}:${CALLER_PORT}`,
        CALLER_DNS_SERVER: `127.0.0.1:${dns.udp[0]?.port}`,
        CALLER_CLIENTS: MTA_SOURCE,
        CALLER_TOKEN: TOKEN,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    caller.stdout?.on('data', (chunk: Buffer) => (callerOutput += chunk.toString()));
    caller.stderr?.on('data', (chunk: Buffer) => (callerOutput += chunk.toString()));
    await waitForCaller(caller, () => callerOutput);
    lab = await createTestLab();
    mta = await startMta(
      lab.config({
        MTA_LOCAL_DOMAINS: 'beta.test',
        MTA_SUBMISSION_LISTEN: '',
        MTA_SUBMISSIONS_LISTEN: '',
        MTA_SOURCE_ADDRESS: MTA_SOURCE,
        MTA_CALLER_TOKEN: TOKEN,
        MTA_CALLER_URL: `http://${CALLER}:${CALLER_PORT}`,
        MTA_CALLER_TIMEOUT_MS: String(CALLER_TIMEOUT_MS),
      }),
      { queue: new MemoryQueue(), earlyTalkerWaitMs: 0 },
    );
    port = mta.smtp[0]?.port ?? 0;
  });

  after(async () => {
    await mta?.close();
    caller?.kill('SIGTERM');
    await lab?.remove();
    await dns?.close();
  });

  it('an 8 MiB folded From: header does not stall other scans: a small message sent meanwhile is scanned and accepted', async () => {
    const big = message('hello', { From: foldedFrom(8 * 1024 * 1024) });
    const bigReply = deliver(port, big);
    // The small message goes once the big one is on its way to the caller (its DATA is answered last).
    await new Promise((resolve) => setTimeout(resolve, 300));
    const small = await deliver(port, message('Lunch?'));
    assert.match(small.text, /^250 2\.0\.0 Ok: queued as /u, 'the caller answered the small scan in time');
    assert.match((await bigReply).text, /^250 2\.0\.0 Ok: queued as /u);
    // Parsing is linear now; the regex held the event loop for ~2.5 s per MiB (20 s here).
    const delay = await callerLoopDelayMs();
    assert.ok(delay < CALLER_TIMEOUT_MS / 4, `the caller's event loop was held ${delay} ms at once`);
  });

  describe('what a scan limit keeps out is not clean: 554 5.7.0 naming the limit', () => {
    const refusal = (limit: string) => new RegExp(`^554 5\\.7\\.0 Message rejected: it cannot be scanned fully \\(Heuristics\\.Limits\\.Exceeded\\.${limit}: `, 'u');
    const zipped = (zip: Buffer) => withAttachment('archive.zip', zip, 'base64', 'application/zip');

    it(`EICAR in a zip nested ${MAX_ZIP_DEPTH + 1} deep`, async () => {
      let zip = createZip([{ name: 'eicar.com', data: EICAR, deflate: true }]);
      for (let depth = 1; depth <= MAX_ZIP_DEPTH; depth++) zip = createZip([{ name: `level${depth}.zip`, data: zip, deflate: true }]);
      const reply = await deliver(port, zipped(zip));
      assert.match(reply.text, refusal('MaxRecursion'));
      assert.match(reply.text, /level1\.zip is a zip nested deeper than 3/u);
    });

    it('EICAR in a zip entry over 16 MiB uncompressed', async () => {
      const data = Buffer.concat([EICAR, Buffer.alloc(MAX_ZIP_ENTRY_BYTES, 0x20)]);
      const zip = createZip([{ name: 'big.txt', data, deflate: true }]);
      assert.ok(zip.length < 64 * 1024, 'small on the wire');
      assert.match((await deliver(port, zipped(zip))).text, refusal('MaxFileSize'));
    });

    it(`EICAR as a zip's entry ${MAX_ZIP_ENTRIES + 1}`, async () => {
      const entries = Array.from({ length: MAX_ZIP_ENTRIES }, (_, index) => ({ name: `f${index}.txt`, data: Buffer.from('clean') }));
      const zip = createZip([...entries, { name: 'eicar.com', data: EICAR, deflate: true }]);
      assert.match((await deliver(port, zipped(zip))).text, refusal('MaxFiles'));
    });

    it(`EICAR in MIME part ${MAX_MIME_PARTS + 2}`, async () => {
      const parts = Array.from({ length: MAX_MIME_PARTS }, (_, index) => `--b1\r\nContent-Type: text/plain\r\n\r\npart ${index}\r\n`);
      const eicar = `--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${EICAR.toString('base64')}\r\n`;
      const raw = message(`${parts.join('')}${eicar}--b1--\r\n`, { 'Content-Type': 'multipart/mixed; boundary="b1"' });
      assert.ok(!raw.includes(EICAR));
      assert.match((await deliver(port, raw)).text, refusal('MaxFiles'));
    });

    it('still finds EICAR before a limit, and passes a clean message', async () => {
      const zip = createZip([{ name: 'eicar.com', data: EICAR, deflate: true }, ...Array.from({ length: MAX_ZIP_ENTRIES + 1 }, (_, index) => ({ name: `f${index}`, data: Buffer.from('x') }))]);
      assert.match((await deliver(port, zipped(zip))).text, /^554 5\.7\.1 Message refused: virus found: Eicar-Test-Signature/u);
      assert.match((await deliver(port, message('clean'))).text, /^250 /u);
    });
  });
});
