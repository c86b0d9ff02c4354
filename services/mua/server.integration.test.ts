import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../shared/log.ts';
import type { LabResolver } from './discovery.ts';
import { SubmitRefused } from './gateway.ts';
import { loadMuaConfig } from './config.ts';
import { startMua, type MuaHandle } from './server.ts';
import { MAX_FAILURES_PER_ACCOUNT } from './rate-limit.ts';
import { MAX_FORM_BYTES } from './routes/multipart.ts';
import { FakeGateway, FakeSubmitter } from './testing/fakes.ts';

const run = promisify(execFile);
const MIB = 1024 * 1024;

/** curl -F to /api/send as `browser`'s session: `{ status, body }` as curl printed them. */
async function curlSend(browser: Browser, args: string[]): Promise<{ status: number; body: string }> {
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const { stdout } = await run('curl', [
    '-sS', '-o', '-', '-w', '\n%{http_code}', '-H', `cookie: ${cookie}`, '-H', `x-csrf-token: ${browser.csrf}`,
    '-F', 'to=bob@beta.test', '-F', 'subject=big', ...args, `${browser.base}/api/send`,
  ], { maxBuffer: MIB });
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

const resolver: LabResolver = {
  async resolveSrv(name) {
    const domain = name.replace(/^_(imap|submission)\._tcp\./u, '');
    if (domain !== 'alpha.test' && domain !== 'beta.test') throw new Error('ENOTFOUND');
    return [{ name: name.startsWith('_imap') ? `imap.${domain}` : `smtp.${domain}`, port: name.startsWith('_imap') ? 143 : 587, priority: 0, weight: 0 }];
  },
  async resolve4() {
    return ['127.0.0.1'];
  },
};

/** A tiny cookie-keeping client. */
class Browser {
  cookies = new Map<string, string>();
  csrf = '';
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  async request(path: string, init: RequestInit = {}, withCsrf = true): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (withCsrf && this.csrf) headers.set('x-csrf-token', this.csrf);
    const response = await fetch(`${this.base}${path}`, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair = ''] = line.split(';');
      const eq = pair.indexOf('=');
      this.cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
    }
    return response;
  }

  async json(path: string, body?: unknown, withCsrf = true): Promise<{ status: number; body: Record<string, unknown> }> {
    const init: RequestInit = body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const response = await this.request(path, init, withCsrf);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  async login(address: string, password = 'secret') {
    this.csrf = String((await this.json('/api/session')).body.csrf);
    const result = await this.json('/api/login', { address, password });
    if (result.body.csrf) this.csrf = String(result.body.csrf);
    return result;
  }
}

describe('MUA HTTP API with fake mail servers', () => {
  let mua: MuaHandle;
  let base: string;
  const gateway = new FakeGateway();
  const submitter = new FakeSubmitter();

  before(async () => {
    mua = await startMua(
      { listen: [{ host: '127.0.0.1', port: 0 }], dnsServer: { host: '127.0.0.1', port: 1 }, fallback: new Map(), sessionSecret: 'x'.repeat(32), tlsDir: '/nonexistent' },
      { resolver, gateway, submitter, log: createLogger('mua', 'silent') },
    );
    base = `http://127.0.0.1:${mua.http[0]?.port}`;
  });
  after(() => mua.close());

  it('serves the page with a strict CSP and no inline script', async () => {
    const response = await fetch(`${base}/`);
    assert.equal(response.status, 200);
    const csp = response.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/u);
    assert.match(csp, /script-src 'self'/u);
    assert.match(csp, /frame-ancestors 'none'/u);
    assert.doesNotMatch(await response.text(), /<script>|<script [^>]*>[^<]/u);
  });

  it('logs in through SRV discovery with an HttpOnly SameSite=Strict session cookie', async () => {
    const browser = new Browser(base);
    browser.csrf = String((await browser.json('/api/session')).body.csrf);
    const response = await browser.request('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ address: 'bob@beta.test', password: 'secret' }),
    });
    assert.equal(response.status, 200);
    const cookie = response.headers.getSetCookie().find((line) => line.startsWith('mua_session='));
    assert.match(cookie ?? '', /HttpOnly/u);
    assert.match(cookie ?? '', /SameSite=Strict/u);
    const opened = gateway.opened.at(-1);
    assert.equal(opened?.endpoint.servername, 'imap.beta.test');
    assert.equal(opened?.credentials.user, 'bob@beta.test');
  });

  it('refuses a wrong password plainly, and rate-limits repeated failures', async () => {
    const browser = new Browser(base);
    const wrong = await browser.login('carol@beta.test', 'nope');
    assert.equal(wrong.status, 401);
    assert.deepEqual(wrong.body, { loggedIn: false, error: 'Wrong address or password.' });
    for (let i = 1; i < MAX_FAILURES_PER_ACCOUNT; i += 1) await browser.login('carol@beta.test', 'nope');
    const limited = await browser.login('carol@beta.test', 'secret');
    assert.equal(limited.status, 429);
    assert.match(String(limited.body.error), /Too many failed logins/u);
  });

  it('counts parallel guesses before IMAP answers: 20 at once meet the limit of 5, and IMAP learns the browser address', async () => {
    const browsers = Array.from({ length: 20 }, () => new Browser(base));
    await Promise.all(browsers.map(async (browser) => (browser.csrf = String((await browser.json('/api/session')).body.csrf))));
    const before = gateway.opened.length;
    const answers = await Promise.all(browsers.map((browser) => browser.json('/api/login', { address: 'postmaster@beta.test', password: 'guess' })));
    const statuses = answers.map((answer) => answer.status).sort();
    assert.deepEqual(statuses, [...Array(MAX_FAILURES_PER_ACCOUNT).fill(401), ...Array(20 - MAX_FAILURES_PER_ACCOUNT).fill(429)]);
    const asked = gateway.opened.slice(before);
    assert.equal(asked.length, MAX_FAILURES_PER_ACCOUNT, 'only the counted attempts reached IMAP');
    assert.equal(asked[0]?.credentials.client, '127.0.0.1');
  });

  it('refuses state changes without the CSRF token (403), before and after login', async () => {
    const browser = new Browser(base);
    await browser.json('/api/session');
    const login = await browser.json('/api/login', { address: 'alice@alpha.test', password: 'secret' }, false);
    assert.equal(login.status, 403);
    await browser.login('alice@alpha.test');
    const store = gateway.stores.get('alice@alpha.test');
    store?.deliver('INBOX', 'Subject: keep me\r\n\r\nhi\r\n');
    const noToken = await browser.json('/api/message/delete', { folder: 'INBOX', uid: 1 }, false);
    assert.equal(noToken.status, 403);
    assert.match(String(noToken.body.error), /CSRF/u);
    const wrongToken = await browser.request('/api/message/delete', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': 'forged' }, body: JSON.stringify({ folder: 'INBOX', uid: 1 }),
    }, false);
    assert.equal(wrongToken.status, 403);
    assert.equal(store?.folders.get('INBOX')?.length, 1);
    const withToken = await browser.json('/api/message/delete', { folder: 'INBOX', uid: 1 });
    assert.equal(withToken.status, 200);
    assert.equal(store?.folders.get('Trash')?.length, 1);
  });

  it('sends through the discovered submission server, keeps Bcc out, and saves to Sent', async () => {
    const browser = new Browser(base);
    await browser.login('alice@alpha.test');
    const form = new FormData();
    form.append('to', 'Bob <bob@beta.test>');
    form.append('bcc', 'carol@beta.test');
    form.append('subject', 'Hello');
    form.append('text', 'Hi!');
    form.append('attachments', new Blob(['a,b\n1,2\n'], { type: 'text/csv' }), 'data.csv');
    const response = await browser.request('/api/send', { method: 'POST', body: form });
    assert.equal(response.status, 200, await response.clone().text());
    const sent = submitter.sent.at(-1);
    assert.equal(sent?.endpoint.servername, 'smtp.alpha.test');
    assert.equal(sent?.clientName, 'mail.alpha.test');
    assert.deepEqual(sent?.envelope, { from: 'alice@alpha.test', to: ['bob@beta.test', 'carol@beta.test'] });
    const raw = sent?.raw.toString() ?? '';
    assert.doesNotMatch(raw, /^bcc:/imu);
    assert.match(raw, /filename=data\.csv/u);
    assert.equal(gateway.stores.get('alice@alpha.test')?.folders.get('Sent')?.at(-1)?.raw.toString(), raw);
  });

  it('refuses attachments over the limit with 413 and a sentence, before or while reading them (issue 19, Medium 8)', async () => {
    const browser = new Browser(base);
    await browser.login('alice@alpha.test');
    const dir = await mkdtemp(join(tmpdir(), 'mua-upload-'));
    try {
      const big = join(dir, 'big.bin');
      await writeFile(big, '');
      await truncate(big, 25 * MIB);
      const before = submitter.sent.length;
      // Declared Content-Length over the limit: refused before the body is read.
      const declared = await curlSend(browser, ['-F', `attachments=@${big}`]);
      assert.equal(declared.status, 413, declared.body);
      assert.match((JSON.parse(declared.body) as { error: string }).error, /^The attachments are too large: at most 20 MB together\.$/u);
      // Chunked, so no length is known: cut off where the body crosses the limit.
      const chunked = await curlSend(browser, ['-H', 'transfer-encoding: chunked', '-F', `attachments=@${big}`]);
      assert.equal(chunked.status, 413, chunked.body);
      assert.match(chunked.body, /too large/u);
      // Two files under the per-file size but over it together.
      const half = join(dir, 'half.bin');
      await writeFile(half, '');
      await truncate(half, 12 * MIB);
      const together = await curlSend(browser, ['-H', 'transfer-encoding: chunked', '-F', `attachments=@${half}`, '-F', `attachments=@${half};filename=again.bin`]);
      assert.equal(together.status, 413, together.body);
      assert.equal(submitter.sent.length, before, 'nothing was sent');
      // The session still works after the refused uploads.
      const small = await curlSend(browser, ['-F', 'text=hi']);
      assert.equal(small.status, 200, small.body);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stops reading an endless upload near the limit instead of buffering it', async () => {
    const browser = new Browser(base);
    await browser.login('alice@alpha.test');
    const boundary = 'endless';
    const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="zero.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
    const chunk = Buffer.alloc(256 * 1024);
    let pulled = 0;
    let headSent = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = headSent ? chunk : head;
        headSent = true;
        pulled += next.length;
        // 1 GiB if nobody stops reading.
        if (pulled > 1024 * MIB) controller.close();
        else controller.enqueue(new Uint8Array(next));
      },
    }, { highWaterMark: 0 });
    const outcome = await browser
      .request('/api/send', { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, duplex: 'half' } as RequestInit)
      .then(async (response) => ({ status: response.status, text: await response.text() }), (error: unknown) => ({ status: 0, text: String(error) }));
    // Either the 413 arrives, or the connection is closed under the upload (the client's choice): never a 200.
    if (outcome.status !== 0) {
      assert.equal(outcome.status, 413, outcome.text);
      assert.match(outcome.text, /too large/u);
    }
    assert.ok(pulled < MAX_FORM_BYTES + 16 * MIB, `the server read ${Math.round(pulled / MIB)} MiB of a 1 GiB upload`);
  });

  it('answers a malformed cookie as no cookie, never 500', async () => {
    for (const cookie of ['mua_session=%E0%A4%A', 'mua_pre=%', 'mua_session=%ZZ; mua_pre=%E0%A4%A', '=%; ;;', 'mua_session']) {
      const session = await fetch(`${base}/api/session`, { headers: { cookie } });
      assert.equal(session.status, 200, cookie);
      assert.equal(((await session.json()) as { loggedIn: boolean }).loggedIn, false);
      const folders = await fetch(`${base}/api/folders`, { headers: { cookie } });
      assert.equal(folders.status, 401, cookie);
      const login = await fetch(`${base}/api/login`, {
        method: 'POST', headers: { cookie, 'content-type': 'application/json', 'x-csrf-token': 'x' }, body: JSON.stringify({ address: 'alice@alpha.test', password: 'secret' }),
      });
      assert.equal(login.status, 403, cookie);
    }
    // A good session cookie beside a broken one still counts.
    const browser = new Browser(base);
    await browser.login('alice@alpha.test');
    const good = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const folders = await fetch(`${base}/api/folders`, { headers: { cookie: `broken=%E0%A4%A; ${good}` } });
    assert.equal(folders.status, 200);
  });

  it('sets no Secure cookie over plain HTTP, not even when an untrusted client claims https', async () => {
    const plain = await fetch(`${base}/api/session`);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/u);
    const claimed = await fetch(`${base}/api/session`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.doesNotMatch(claimed.headers.get('set-cookie') ?? '', /Secure/u);
  });

  it('lists and downloads attachments, and forwards them with the message', async () => {
    const browser = new Browser(base);
    await browser.login('dave@beta.test');
    const store = gateway.stores.get('dave@beta.test');
    store?.deliver('INBOX', [
      'From: Bob <bob@beta.test>', 'To: dave@beta.test', 'Subject: report', 'Message-ID: <r1@beta.test>', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'see attached', '--b',
      'Content-Type: text/html; name=page.html', 'Content-Disposition: attachment; filename=page.html', '', '<script>alert(1)</script>', '--b--', '',
    ].join('\r\n'));
    const view = await browser.json('/api/message?folder=INBOX&uid=1');
    assert.deepEqual(view.body.attachments, [{ index: 0, filename: 'page.html', contentType: 'text/html', size: 25 }]);
    const download = await browser.request('/api/message/attachment?folder=INBOX&uid=1&index=0');
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment; filename="?page\.html"?$/u);
    assert.match(download.headers.get('content-security-policy') ?? '', /sandbox/u);
    assert.equal(download.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(await download.text(), '<script>alert(1)</script>');

    const draft = await browser.json('/api/message/draft?folder=INBOX&uid=1&mode=forward');
    assert.equal(draft.body.subject, 'Fwd: report');
    const form = new FormData();
    form.append('to', 'alice@alpha.test');
    form.append('subject', String(draft.body.subject));
    form.append('text', String(draft.body.text));
    form.append('forwardFolder', 'INBOX');
    form.append('forwardUid', '1');
    assert.equal((await browser.request('/api/send', { method: 'POST', body: form })).status, 200);
    const raw = submitter.sent.at(-1)?.raw.toString() ?? '';
    assert.match(raw, /filename=page\.html/u);
    assert.match(raw, /Forwarded message/u);
  });

  it('shows a submission refusal in plain words with the server code', async () => {
    const browser = new Browser(base);
    await browser.login('alice@alpha.test');
    submitter.refuse = new SubmitRefused('Message failed', 554, '554 5.7.1 Rejected: message looks like spam (score 12.5)');
    const form = new FormData();
    form.append('to', 'bob@beta.test');
    form.append('text', 'buy now');
    const response = await browser.request('/api/send', { method: 'POST', body: form });
    submitter.refuse = undefined;
    assert.equal(response.status, 422);
    const body = (await response.json()) as { ok: boolean; error: string; code: number };
    assert.equal(body.ok, false);
    assert.equal(body.code, 554);
    assert.equal(body.error, 'The mail server refused the message: 554 5.7.1 Rejected: message looks like spam (score 12.5)');
  });

  it('serves message HTML with its own CSP and new mail as Server-Sent Events; logout closes IMAP', async () => {
    const browser = new Browser(base);
    await browser.login('bob@beta.test');
    const store = gateway.stores.get('bob@beta.test');
    store?.deliver('INBOX', 'Subject: html\r\nContent-Type: text/html\r\n\r\n<p>hi</p><img src="http://evil.test/x.png"><script>x()</script>\r\n');
    const frame = await browser.request('/api/message/frame?folder=INBOX&uid=1');
    assert.match(frame.headers.get('content-security-policy') ?? '', /default-src 'none'.*img-src data: http:\/\/127\.0\.0\.1:\d+\/api\/part\/;/u);
    const html = await frame.text();
    assert.doesNotMatch(html, /<script|(?<!-)src="http/u);

    const controller = new AbortController();
    const events = await browser.request('/api/events', { signal: controller.signal });
    assert.equal(events.headers.get('content-type'), 'text/event-stream');
    const reader = events.body!.getReader();
    let text = '';
    const until = Date.now() + 5000;
    store?.deliver('INBOX', 'Subject: second\r\n\r\nx\r\n');
    while (!text.includes('event: mail') && Date.now() < until) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    assert.match(text, /event: mail\ndata: \{"type":"new","folder":"INBOX","count":2\}/u);

    const out = await browser.json('/api/logout', {});
    assert.equal(out.status, 200);
    assert.equal(store?.closed, true);
    assert.equal((await browser.json('/api/folders')).status, 401);
  });

  it('serves inline images once by URL, not as a data: URI per reference: the 180-reference message stays small (issue 19, High 3)', async () => {
    const browser = new Browser(base);
    await browser.login('erin@beta.test');
    const store = gateway.stores.get('erin@beta.test');
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(2 * 1024 * 1024, 7)]);
    store?.deliver('INBOX', inlineImageMessage(image, 180));
    const frame = await browser.request('/api/message/frame?folder=INBOX&uid=1');
    assert.equal(frame.status, 200);
    const html = await frame.text();
    assert.ok(html.length < 64 * 1024, `the frame document is ${html.length} characters`);
    assert.doesNotMatch(html, /data:image/u);
    const urls = [...html.matchAll(/<img src="(\/api\/part\/[\w-]+\/0)"/gu)].map((match) => match[1]);
    assert.equal(urls.length, 180);
    assert.equal(new Set(urls).size, 1, 'one URL for every reference');
    // The sandboxed frame's request carries no cookie: the token alone opens the part.
    const part = await fetch(`${base}${urls[0]}`);
    assert.equal(part.status, 200);
    assert.equal(part.headers.get('content-type'), 'image/png');
    assert.match(part.headers.get('content-security-policy') ?? '', /sandbox/u);
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), image);
    assert.equal((await fetch(`${base}/api/part/not-a-token/0`)).status, 404);
    assert.equal((await fetch(`${base}${urls[0]?.replace(/0$/u, '1')}`)).status, 404);
    await browser.json('/api/logout', {});
    assert.equal((await fetch(`${base}${urls[0]}`)).status, 404, 'a token dies with its session');
  });

  it('does not show a frame document over the size bound', async () => {
    const browser = new Browser(base);
    await browser.login('frank@beta.test');
    const store = gateway.stores.get('frank@beta.test');
    store?.deliver('INBOX', `Subject: huge\r\nContent-Type: text/html\r\n\r\n${'<p>spam spam spam spam</p>\r\n'.repeat(110_000)}`);
    const html = await (await browser.request('/api/message/frame?folder=INBOX&uid=1')).text();
    assert.ok(html.length < 64 * 1024, `the frame document is ${html.length} characters`);
    assert.match(html, /too large to show here \(3 MB\)/u);
  });
});

/** multipart/related: HTML that references one inline PNG `references` times. */
function inlineImageMessage(image: Buffer, references: number): string {
  return [
    'From: Bob <bob@beta.test>', 'Subject: logo', 'MIME-Version: 1.0', 'Content-Type: multipart/related; boundary=r', '',
    '--r', 'Content-Type: text/html; charset=utf-8', '', '<p>logos</p>' + '<img src="cid:logo@beta.test">'.repeat(references),
    '--r', 'Content-Type: image/png', 'Content-ID: <logo@beta.test>', 'Content-Transfer-Encoding: base64', '',
    (image.toString('base64').match(/.{1,76}/gu) ?? []).join('\r\n'), '--r--', '',
  ].join('\r\n');
}

describe('MUA behind a TLS proxy (MUA_TRUST_PROXY)', () => {
  let mua: MuaHandle;
  let base: string;
  const gateway = new FakeGateway();

  before(async () => {
    const config = loadMuaConfig({ MUA_LISTEN: '127.0.0.1:0', MUA_SESSION_SECRET: 'y'.repeat(32), MXLAB_TLS_DIR: '/nonexistent', MUA_TRUST_PROXY: '127.0.0.1' });
    mua = await startMua(config, { resolver, gateway, submitter: new FakeSubmitter(), log: createLogger('mua', 'silent') });
    base = `http://127.0.0.1:${mua.http[0]?.port}`;
  });
  after(() => mua.close());

  it('marks every cookie Secure when the proxy says the page came over https', async () => {
    const pre = await fetch(`${base}/api/session`, { headers: { 'x-forwarded-proto': 'https' } });
    assert.match(pre.headers.get('set-cookie') ?? '', /^mua_pre=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Secure$/u);
    const browser = new Browser(base);
    const login = await browser.request('/api/session', { headers: { 'x-forwarded-proto': 'https' } });
    browser.csrf = String(((await login.json()) as { csrf: string }).csrf);
    const session = await browser.request('/api/login', {
      method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'https' }, body: JSON.stringify({ address: 'alice@alpha.test', password: 'secret' }),
    });
    assert.equal(session.status, 200);
    assert.match(session.headers.get('set-cookie') ?? '', /^mua_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+; Secure$/u);
    const plain = await fetch(`${base}/api/session`);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/u, 'plain http through the same proxy');
  });
});
