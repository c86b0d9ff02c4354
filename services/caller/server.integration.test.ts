import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { encodeScanRequest, scanVerdictSchema, type ScanRequest, type ScanVerdict } from '../../shared/caller-api.ts';
import { createLogger } from '../../shared/log.ts';
import { startDnsServer, type DnsServer } from '../dns/server.ts';
import { loadCallerConfig } from './config.ts';
import { EICAR } from './engines/eicar.ts';
import { startCaller, type RunningCaller } from './server.ts';
import { fakeDns } from './testing/fake-dns.ts';
import { GTUBE, message, scanRequest, withAttachment } from './testing/messages.ts';

const ZONES_DIR = fileURLToPath(new URL('../dns/zones/', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const MAX_BYTES = 100_000;

describe('caller HTTP API with the lab DNS', () => {
  let dns: DnsServer;
  let caller: RunningCaller;
  let base: string;

  before(async () => {
    dns = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: ZONES_DIR, addressMode: 'loopback', logger: createLogger('dns') });
    const config = loadCallerConfig({
      CALLER_LISTEN: '127.0.0.1:0',
      CALLER_DNS_SERVER: `127.0.0.1:${dns.udp[0]?.port}`,
      CALLER_MAX_MESSAGE_BYTES: String(MAX_BYTES),
      CALLER_ENGINE_TIMEOUT_MS: '3000',
    });
    caller = await startCaller(config);
    base = `http://127.0.0.1:${caller.http[0]?.port}`;
  });
  after(async () => {
    await caller.close();
    await dns.close();
  });

  async function scan(raw: Buffer, request: Partial<ScanRequest> = {}): Promise<ScanVerdict> {
    const response = await fetch(`${base}/v1/scan`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-mxlab-scan': encodeScanRequest(scanRequest(request)) },
      body: raw,
    });
    assert.equal(response.status, 200);
    return scanVerdictSchema.parse(await response.json());
  }
  const header = (verdict: ScanVerdict, name: string) => verdict.headers.find((entry) => entry.name === name)?.value;
  const tests = (verdict: ScanVerdict) => verdict.engines.flatMap((result) => result.rules.map((rule) => rule.name));

  it('accepts clean mail from the lab MX address: SPF passes over the real lab DNS', async () => {
    const verdict = await scan(message('Hello Bob'));
    assert.equal(verdict.action, 'accept');
    assert.deepEqual(tests(verdict), ['SPF_PASS']);
    assert.match(header(verdict, 'X-Virus-Scanned') ?? '', /^mxlab-caller/);
    assert.match(header(verdict, 'X-Spam-Status') ?? '', /^No, score=0\.0 required=5\.0 tests=SPF_PASS$/);
  });

  it('scores SPF_FAIL from a foreign address and SENDER_NO_MX_A for a domain outside the lab', async () => {
    assert.ok(tests(await scan(message('hi'), { clientAddress: '127.0.0.1' })).includes('SPF_FAIL'));
    assert.ok(tests(await scan(message('hi'), { mailFrom: 'x@example.com' })).includes('SENDER_NO_MX_A'));
  });

  it('tags GTUBE, and rejects it with 550 5.7.1 when a reject score is set', async () => {
    const tagged = await scan(message(GTUBE, { Subject: 'test' }));
    assert.equal(tagged.action, 'tag');
    assert.equal(header(tagged, 'X-Spam-Flag'), 'YES');
    assert.match(header(tagged, 'X-Spam-Status') ?? '', /^Yes, score=1000\.0 required=5\.0 tests=GTUBE,SPF_PASS$/);
    const rejected = await scan(message(GTUBE), { policy: { tagScore: 5, rejectScore: 10 } });
    assert.equal(rejected.action, 'reject');
    assert.equal(rejected.smtp?.code, 550);
  });

  it('rejects EICAR in a base64 attachment with 554 5.7.1', async () => {
    const verdict = await scan(withAttachment('eicar.com', EICAR, 'base64'));
    assert.equal(verdict.action, 'reject');
    assert.deepEqual(verdict.smtp, { code: 554, enhanced: '5.7.1', message: 'Message rejected: virus found (Eicar-Test-Signature)' });
  });

  it('answers 400 with a message for a missing or bad X-Mxlab-Scan header and an empty body', async () => {
    const post = (headers: Record<string, string>, body = 'Subject: x\r\n\r\nhi') => fetch(`${base}/v1/scan`, { method: 'POST', headers, body });
    const missing = await post({});
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: string }).error, /missing x-mxlab-scan header/);
    const garbage = await post({ 'x-mxlab-scan': '!!!' });
    assert.equal(garbage.status, 400);
    assert.match(((await garbage.json()) as { error: string }).error, /bad x-mxlab-scan header/);
    const invalid = await post({ 'x-mxlab-scan': Buffer.from(JSON.stringify({ ...scanRequest(), rcptTo: [] })).toString('base64url') });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: string }).error, /rcptTo/);
    const empty = await post({ 'x-mxlab-scan': encodeScanRequest(scanRequest()) }, '');
    assert.equal(empty.status, 400);
    assert.match(((await empty.json()) as { error: string }).error, /empty message body/);
  });

  it('answers 413 with a message for a body over the limit, declared or streamed', async () => {
    const big = Buffer.alloc(MAX_BYTES + 1, 'a');
    const declared = await fetch(`${base}/v1/scan`, { method: 'POST', headers: { 'x-mxlab-scan': encodeScanRequest(scanRequest()) }, body: big });
    assert.equal(declared.status, 413);
    assert.match(((await declared.json()) as { error: string }).error, /larger than 100000 bytes/);

    const { port } = caller.http[0] ?? { port: 0 };
    const streamed = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/scan', headers: { 'x-mxlab-scan': encodeScanRequest(scanRequest()), 'transfer-encoding': 'chunked' } }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      });
      request.on('error', reject);
      for (let i = 0; i < 3; i++) request.write(Buffer.alloc(MAX_BYTES / 2, 'b'));
      request.end();
    });
    assert.equal(streamed.status, 413);
    assert.match(streamed.body, /larger than 100000 bytes/);
  });

  it('serves /healthz and counts verdicts in /metrics', async () => {
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(((await health.json()) as { engines: { name: string }[] }).engines.map((engine) => engine.name), ['builtin-virus', 'builtin-spam']);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^mxlab_caller_verdicts_total\{action="tag"\} [1-9]/m);
    assert.match(metrics, /^mxlab_caller_verdicts_total\{action="reject"\} [1-9]/m);
    assert.match(metrics, /^mxlab_caller_request_errors_total\{status="413"\} [1-9]/m);
    assert.equal(caller.metrics.verdictCount('accept') >= 1, true);
    assert.equal((await fetch(`${base}/v2/scan`, { method: 'POST' })).status, 404);
  });
});

describe('services/caller/main.ts', () => {
  it('names a taken port and exits non-zero', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(promisify(execFile)(process.execPath, [MAIN], { env: { ...process.env, CALLER_LISTEN: `127.0.0.1:${taken}` }, timeout: 10_000 }), (error: { code?: number; stderr?: string }) => {
        assert.equal(error.code, 2, 'exit 2: the operator must move the port');
        assert.match(error.stderr ?? '', new RegExp(`caller cannot listen on 127\\.0\\.0\\.1:${taken}: the port is already taken`));
        return true;
      });
    } finally {
      blocker.close();
    }
  });

  it('refuses a bad variable by name', async () => {
    await assert.rejects(promisify(execFile)(process.execPath, [MAIN], { env: { ...process.env, CALLER_CLAMD: 'nonsense:port' }, timeout: 10_000 }), (error: { stderr?: string }) => {
      assert.match(error.stderr ?? '', /CALLER_CLAMD/);
      return true;
    });
  });
});

describe('caller scan API: only the lab MTAs, bounded (issue 19, item 4)', () => {
  const LISTEN = '127.80.2.5';
  const MTA = '127.80.2.10';
  const TOKEN = 'a-lab-token-of-some-length';
  let caller: RunningCaller;
  let port: number;

  before(async () => {
    const config = loadCallerConfig({
      CALLER_LISTEN: `${LISTEN}:0`,
      CALLER_DNS_SERVER: '127.0.0.1:9',
      CALLER_CLIENTS: MTA,
      CALLER_TOKEN: TOKEN,
      CALLER_MAX_SCANS: '1',
      CALLER_MAX_WAITING_SCANS: '0',
    });
    caller = await startCaller(config, { dns: () => fakeDns() });
    port = caller.http[0]?.port ?? 0;
  });
  after(() => caller.close());

  /** Starts a scan from `from`; `finish` sends the rest of the body (the scan holds its slot until then). */
  function scanFrom(from: string, headers: Record<string, string>): { finish(): void; answer: Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> } {
    let request!: http.ClientRequest;
    const answer = new Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }>((resolve, reject) => {
      request = http.request(
        { host: LISTEN, port, localAddress: from, method: 'POST', path: '/v1/scan', headers: { 'x-mxlab-scan': encodeScanRequest(scanRequest()), 'transfer-encoding': 'chunked', ...headers } },
        (response) => {
          let body = '';
          response.on('data', (chunk: Buffer) => (body += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body, headers: response.headers }));
        },
      );
      request.on('error', reject);
      request.write(message('first half').subarray(0, 40));
    });
    return { answer, finish: () => request.end(message('first half').subarray(40)) };
  }
  const bearer = { authorization: `Bearer ${TOKEN}` };

  it('refuses a client that is not in CALLER_CLIENTS with 403', async () => {
    const scan = scanFrom('127.0.0.1', bearer);
    scan.finish();
    const answer = await scan.answer;
    assert.equal(answer.status, 403);
    assert.match(answer.body, /scans are for the lab's MTAs only: 127\.0\.0\.1 is not in CALLER_CLIENTS/u);
  });

  it('refuses a missing or wrong token with 401', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }] as Record<string, string>[]) {
      const scan = scanFrom(MTA, headers);
      scan.finish();
      const answer = await scan.answer;
      assert.equal(answer.status, 401);
      assert.equal(answer.headers['www-authenticate'], 'Bearer realm="mxlab-caller"');
      assert.match(answer.body, /missing or wrong token/u);
    }
  });

  it('answers 503 with Retry-After beyond CALLER_MAX_SCANS + CALLER_MAX_WAITING_SCANS, and scans once a slot is free', async () => {
    const first = scanFrom(MTA, bearer);
    // The first scan is reading its body (it holds the only slot) once the caller has its headers.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const second = scanFrom(MTA, bearer);
    second.finish();
    const refused = await second.answer;
    assert.equal(refused.status, 503);
    assert.equal(refused.headers['retry-after'], '1');
    assert.match(refused.body, /caller busy: 1 scans running and 0 waiting \(CALLER_MAX_SCANS, CALLER_MAX_WAITING_SCANS\)/u);
    first.finish();
    assert.equal((await first.answer).status, 200);
    const third = scanFrom(MTA, bearer);
    third.finish();
    assert.equal((await third.answer).status, 200);
  });
});
