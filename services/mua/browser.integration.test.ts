/**
 * The web mail in a real browser (Debian's chromium driven by playwright-core) against the
 * whole chain in this process: alice writes to bob, bob sees it arrive live, reads it,
 * looks at its journey and replies; alice sees the reply. Hostile HTML runs nothing and
 * fetches nothing; a wrong password and a POST without the CSRF token are refused.
 * Screenshots go to artifacts/screenshots/.
 *
 * With MXLAB_MUA_URL (and MXLAB_ALPHA_SUBMISSION, `host:port` of alpha-mta's submission port,
 * MXLAB_BETA_MX, beta-mx1's port 25, and MXLAB_LAB_CA, the lab CA's file) it runs against a lab that is already up — `npm start`
 * or the compose stack — instead of its own chain. Mail the test writes as alice goes in
 * where a real alice's does: alpha-mta's submission port, STARTTLS and AUTH, so it leaves
 * DKIM-signed and passes beta-mx1's DMARC check (alpha.test publishes p=reject).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { createTransport } from 'nodemailer';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { parseHostPort, type HostPort } from '../../shared/config.ts';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback } from '../../shared/lab.ts';
import { loadSigningKeys } from '../mta/auth/keys.ts';
import { signMessage } from '../mta/auth/sign.ts';
import { startChain, type Chain } from './testing/chain.ts';

const SHOTS = resolve(import.meta.dirname, '..', '..', 'artifacts', 'screenshots');
const CHROMIUM = process.env.MXLAB_CHROMIUM ?? '/usr/bin/chromium';
const ARRIVAL_TIMEOUT_MS = 45_000;

interface Person {
  context: BrowserContext;
  page: Page;
  problems: string[];
}

/** Subjects carry this run's tag, so a lab that keeps its mail between runs still works. */
const TAG = randomBytes(3).toString('hex');
const LUNCH = `Lunch on Friday? ${TAG}`;
const HOSTILE = `Hostile markup ${TAG}`;
const ALTERED = `Meeting moved ${TAG}`;

let chain: Chain | undefined;
let muaUrl: string;
let submission: HostPort;
let betaMx: HostPort;
let labCa: string;
let browser: Browser;
let remote: Server;
const remoteHits: string[] = [];
let alice: Person;
let bob: Person;

async function person(viewport = { width: 1360, height: 860 }): Promise<Person> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return;
    // The browser's own network line for the answers the scenario provokes on purpose:
    // a wrong password (401) and a refused recipient (422). Anything else is a problem.
    const provoked =
      /^Failed to load resource: the server responded with a status of (401|422)\b/u.test(message.text()) &&
      /\/api\/(login|send)$/u.test(message.location().url);
    if (!provoked) problems.push(`console ${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('dialog', (dialog) => {
    problems.push(`dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  await page.goto(muaUrl);
  await page.waitForSelector('#login-form');
  return { context, page, problems };
}

/** Signs in with the keyboard alone: type, Tab, type, Enter. */
async function logIn(who: Person, address: string, password = 'secret'): Promise<void> {
  await who.page.fill('#login-address', '');
  await who.page.focus('#login-address');
  await who.page.keyboard.type(address);
  await who.page.keyboard.press('Tab');
  await who.page.keyboard.press('Control+A');
  await who.page.keyboard.type(password);
  await who.page.keyboard.press('Enter');
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

function row(page: Page, subject: string) {
  return page.locator('#messages a.row', { hasText: subject });
}

async function compose(page: Page, to: string | undefined, subject: string | undefined, text: string): Promise<void> {
  if (to !== undefined) await page.fill('#compose-to', to);
  if (subject !== undefined) await page.fill('#compose-subject', subject);
  await page.locator('#compose-text').press('Home');
  await page.locator('#compose-text').pressSequentially(text, { delay: 0 });
}

/** `#12b76a` → `rgb(18, 183, 106)`, as getComputedStyle reports colours. */
function toRgb(hex: string): string {
  const value = Number.parseInt(hex.replace('#', ''), 16);
  return `rgb(${(value >> 16) & 255}, ${(value >> 8) & 255}, ${value & 255})`;
}

/** alice's mail client, as a real one is set up: alpha-mta's submission port, STARTTLS, AUTH. */
function asAlice() {
  return createTransport({
    host: submission.host,
    port: submission.port,
    secure: false,
    requireTLS: true,
    tls: { ca: labCa, servername: 'smtp.alpha.test' },
    auth: { user: 'alice@alpha.test', pass: 'secret' },
  });
}

describe('web mail in a browser, over the whole chain', { timeout: 240_000 }, () => {
  before(async () => {
    await mkdir(SHOTS, { recursive: true });
    if (process.env.MXLAB_MUA_URL) {
      muaUrl = process.env.MXLAB_MUA_URL.replace(/\/$/u, '');
      submission = parseHostPort(process.env.MXLAB_ALPHA_SUBMISSION ?? '127.0.0.1:1587');
      betaMx = parseHostPort(process.env.MXLAB_BETA_MX ?? '127.0.0.1:2025');
      labCa = await readFile(process.env.MXLAB_LAB_CA ?? resolve(import.meta.dirname, '..', '..', '.lab', 'tls', 'ca.crt'), 'utf8');
    } else {
      chain = await startChain();
      muaUrl = chain.muaUrl;
      submission = { host: toLoopback(AGENT_ADDRESSES['alpha-mta'], chain.net), port: SERVICE_PORTS.submission };
      betaMx = { host: toLoopback(AGENT_ADDRESSES['beta-mx1'], chain.net), port: SERVICE_PORTS.smtp };
      labCa = await readFile(join(chain.stateDir, 'tls', 'ca.crt'), 'utf8');
    }
    remote = createServer((req, res) => {
      remoteHits.push(req.url ?? '');
      res.writeHead(200, { 'Content-Type': 'image/gif' }).end(Buffer.from('R0lGODlhAQABAAAAACwAAAAAAQABAAA=', 'base64'));
    });
    await new Promise<void>((done) => remote.listen(0, '127.0.0.1', done));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
    });
    alice = await person();
    bob = await person();
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((done) => (remote ? remote.close(() => done()) : done()));
    await chain?.close();
  });

  it('refuses a wrong password with a plain message', async () => {
    await shot(alice.page, 'login');
    await logIn(alice, 'alice@alpha.test', 'not-the-password');
    await alice.page.waitForSelector('#login-error:not([hidden])');
    assert.equal(await alice.page.textContent('#login-error'), 'Wrong address or password.');
    assert.equal(await alice.page.isVisible('#app-view'), false);
    await shot(alice.page, 'login-refused');
  });

  it('alice sends to bob; bob sees it arrive without reloading and reads it', async () => {
    await logIn(alice, 'alice@alpha.test');
    await alice.page.waitForSelector('#app-view:not([hidden])');
    await logIn(bob, 'bob@beta.test');
    await bob.page.waitForSelector('#live-status[data-ok="1"]');
    await bob.page.evaluate(() => Object.assign(globalThis, { stayedOnPage: true }));

    await alice.page.click('#compose-button');
    await compose(alice.page, 'bob@beta.test', LUNCH, 'Hi Bob,\nlunch on Friday at noon?\nAlice');
    await shot(alice.page, 'compose');
    await alice.page.click('#compose-send');
    await alice.page.waitForSelector('#compose', { state: 'hidden' });

    await row(bob.page, LUNCH).waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    assert.equal(await bob.page.evaluate(() => (globalThis as { stayedOnPage?: boolean }).stayedOnPage), true, 'the page was reloaded');
    await shot(bob.page, 'inbox');
    await row(bob.page, LUNCH).click();
    await bob.page.waitForSelector('#reader-content .text-body');
    assert.match((await bob.page.textContent('#reader-content .text-body')) ?? '', /lunch on Friday at noon\?/u);
    assert.match((await bob.page.textContent('#reader-content .headers')) ?? '', /alice@alpha\.test/u);
    await shot(bob.page, 'message');
  });

  it('shows a refusal by the submission server in plain words with its code', async () => {
    await alice.page.keyboard.press('c');
    await alice.page.waitForSelector('#compose[open]');
    await compose(alice.page, 'nobody@alpha.test', 'Anyone there?', 'Hello?');
    await alice.page.click('#compose-send');
    await alice.page.waitForSelector('#compose-error:not([hidden])');
    assert.match((await alice.page.textContent('#compose-error')) ?? '', /^The mail server refused the message: 550 5\.1\.1 /u);
    await shot(alice.page, 'compose-refused');
    await alice.page.click('#compose-cancel');
    await alice.page.waitForSelector('#compose', { state: 'hidden' });
  });

  it('the journey view lists every hop with protocol, TLS and authentication', async () => {
    await bob.page.click('#tab-journey');
    await bob.page.waitForSelector('#panel-journey .timeline');
    const agents = await bob.page.locator('.hop:not(.hop-written):not(.hop-verdict):not(.hop-auth):not(.hop-mailbox):not(.hop-read) .hop-agent').allTextContents();
    assert.deepEqual(agents, ['alpha-mta', 'beta-mx1', 'beta-mda']);
    const protocols = await bob.page.locator('.hop:not(.hop-read) .badge-proto').allTextContents();
    assert.deepEqual(protocols, ['ESMTPSA', 'ESMTPS', 'LMTP']);
    const first = (await bob.page.locator('.hop-submission').textContent()) ?? '';
    assert.match(first, /authenticated as alice@alpha\.test/u);
    assert.match(first, /TLS 1\.3/u);
    assert.equal(await bob.page.locator('.hop-verdict').count(), 1, 'the caller verdict is shown');
    assert.match((await bob.page.locator('.hop-mailbox').textContent()) ?? '', /bob@beta\.test/u);
    assert.match((await bob.page.locator('.hop-read').textContent()) ?? '', /imap\.beta\.test/u);
    await bob.page.setViewportSize({ width: 1360, height: 2000 });
    await shot(bob.page, 'journey');
    await bob.page.setViewportSize({ width: 1360, height: 860 });
  });

  it('the journey shows what beta-mx1 checked at its hop: SPF, both DKIM signatures and DMARC pass, in green', async () => {
    // The card right after beta-mx1's hop (step 2) is its own Authentication-Results.
    const afterMx1 = bob.page.locator('.hop-relay + .hop-auth');
    assert.equal(await afterMx1.getAttribute('data-authserv'), 'mx1.beta.test');
    assert.equal(await afterMx1.getAttribute('data-step'), '2');
    const results = await afterMx1.locator('.auth-result').evaluateAll((rows) =>
      rows.map((row) => `${row.getAttribute('data-method')}=${row.getAttribute('data-result')} ${row.querySelector('.auth-identity')?.textContent ?? ''}`));
    // The HELO name's own SPF (RFC 7208 §2.3) is a row of its own; mx.alpha.test publishes none.
    assert.deepEqual(results.filter((item) => !/ HELO /u.test(item)).map((item) => item.split(' ')[0]).sort(), ['arc=none', 'dkim=pass', 'dkim=pass', 'dmarc=pass', 'spf=pass']);
    assert.ok(results.includes('spf=pass MAIL FROM alpha.test'), results.join(' | '));
    assert.equal(await afterMx1.locator('.auth-result.auth-bad').count(), 0);
    // Pass in green: the badge is drawn in the page's --good colour.
    const colours = await afterMx1.locator('.auth-result[data-method="dmarc"] .badge').evaluate((badge) => {
      const page = globalThis as unknown as { getComputedStyle(node: unknown): { color: string; getPropertyValue(name: string): string }; document: { documentElement: unknown } };
      return { badge: page.getComputedStyle(badge).color, good: page.getComputedStyle(page.document.documentElement).getPropertyValue('--good').trim() };
    });
    assert.equal(colours.badge, toRgb(colours.good));
    assert.match((await afterMx1.locator('.auth-result[data-method="dmarc"] .auth-identity').textContent()) ?? '', /From: alpha\.test/u);
    await bob.page.click('#tab-message');
    assert.equal(await bob.page.getAttribute('#sender-check', 'data-dmarc'), 'pass');
    assert.match((await bob.page.textContent('#sender-check')) ?? '', /alpha\.test verified/u);
    await bob.page.click('#tab-journey');
  });

  it('bob replies; alice sees the reply live, threaded to her message', async () => {
    await bob.page.click('#tab-message');
    await bob.page.keyboard.press('r');
    await bob.page.waitForSelector('#compose[open]');
    assert.equal(await bob.page.inputValue('#compose-to'), 'alice@alpha.test');
    assert.equal(await bob.page.inputValue('#compose-subject'), `Re: ${LUNCH}`);
    await compose(bob.page, undefined, undefined, 'Yes, see you at noon!\n');
    await bob.page.click('#compose-send');
    await bob.page.waitForSelector('#compose', { state: 'hidden' });

    await row(alice.page, `Re: ${LUNCH}`).waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    await row(alice.page, `Re: ${LUNCH}`).click();
    await alice.page.waitForSelector('#reader-content .text-body');
    assert.match((await alice.page.textContent('#reader-content .text-body')) ?? '', /see you at noon/u);

    const sent = await alice.page.request.get(`${muaUrl}/api/messages?folder=Sent`);
    const original = (await sent.json()) as { messages: { uid: number; subject: string }[] };
    const sentUid = original.messages.find((message) => message.subject === LUNCH)?.uid ?? 0;
    const source = await (await alice.page.request.get(`${muaUrl}/api/message/source?folder=Sent&uid=${sentUid}`)).text();
    const originalId = /^Message-ID: (<[^>]+>)/imu.exec(source)?.[1];
    assert.ok(originalId, 'the copy in Sent has a Message-ID');
    const uid = await alice.page.locator('#messages a.row[aria-current="true"]').getAttribute('data-uid');
    const reply = await (await alice.page.request.get(`${muaUrl}/api/message/source?folder=INBOX&uid=${uid}`)).text();
    assert.match(reply, new RegExp(`^In-Reply-To: ${originalId.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')}`, 'imu'));
    assert.match(reply, new RegExp(`^References: ${originalId.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&')}`, 'imu'));
  });

  it('hostile HTML runs nothing and fetches nothing until bob asks for images', async () => {
    const remoteBase = `http://127.0.0.1:${(remote.address() as AddressInfo).port}`;
    const mx = asAlice();
    await mx.sendMail({
      from: 'alice@alpha.test',
      to: 'bob@beta.test',
      subject: HOSTILE,
      text: 'plain part',
      html:
        `<p id="greeting">Hello Bob</p><script>fetch('${remoteBase}/script');document.title='pwned';alert('script')</script>` +
        `<img src="nonexistent" onerror="fetch('${remoteBase}/onerror');alert('onerror')">` +
        `<img src="${remoteBase}/pixel.gif" alt="tracking pixel">` +
        `<div style="background:url(${remoteBase}/css)">styled</div><a href="javascript:alert('link')">link</a>`,
    });
    mx.close();
    await row(bob.page, HOSTILE).waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    await row(bob.page, HOSTILE).click();
    const frame = bob.page.locator('iframe.message-frame');
    await frame.waitFor();
    assert.equal(await frame.getAttribute('sandbox'), 'allow-popups allow-popups-to-escape-sandbox');
    await bob.page.frameLocator('iframe.message-frame').locator('p', { hasText: 'Hello Bob' }).waitFor();
    await bob.page.waitForTimeout(1000);
    assert.deepEqual(remoteHits, [], 'nothing was fetched from the "remote" server');
    assert.doesNotMatch(await bob.page.title(), /pwned/u);
    assert.match((await bob.page.textContent('.notice')) ?? '', /1 remote image was blocked/u);
    await shot(bob.page, 'hostile-blocked');

    await bob.page.click('#show-images');
    await bob.page.frameLocator('iframe.message-frame').locator('img[alt="tracking pixel"]').waitFor();
    for (let i = 0; i < 50 && remoteHits.length === 0; i += 1) await bob.page.waitForTimeout(100);
    assert.deepEqual(remoteHits, ['/pixel.gif'], 'only the image, only after "show images"');
  });

  it('flags, searches, and deletes to Trash from the keyboard', async () => {
    await bob.page.keyboard.press('s');
    await bob.page.waitForSelector('#flag-button[aria-pressed="true"]');
    await row(bob.page, HOSTILE).locator('.star').waitFor();
    await bob.page.keyboard.press('/');
    await bob.page.keyboard.type(`Friday? ${TAG}`);
    await bob.page.keyboard.press('Enter');
    await bob.page.locator('#list-count', { hasText: '1 found' }).waitFor();
    assert.equal(await bob.page.locator('#messages a.row').count(), 1);
    await bob.page.fill('#search-input', '');
    await bob.page.keyboard.press('Enter');
    await row(bob.page, HOSTILE).click();
    await bob.page.waitForSelector('iframe.message-frame');
    await bob.page.locator('#messages').focus();
    await bob.page.keyboard.press('#');
    await bob.page.locator('#reader-empty').waitFor();
    assert.equal(await row(bob.page, HOSTILE).count(), 0);
    await bob.page.locator('#folder-list a', { hasText: 'Trash' }).click();
    await row(bob.page, HOSTILE).waitFor();
    await shot(bob.page, 'trash');
    await bob.page.locator('#folder-list a', { hasText: 'Inbox' }).click();
    await row(bob.page, LUNCH).waitFor();
  });

  it('an inline image referenced 180 times loads once by URL in the sandboxed frame; the document stays small', async () => {
    const subject = `Logos ${TAG}`;
    const pixel = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==', 'base64');
    // 2 MiB after the PNG's end: as big as the image, still a valid picture.
    const image = Buffer.concat([pixel, Buffer.alloc(2 * 1024 * 1024)]);
    const mx = asAlice();
    await mx.sendMail({
      from: 'alice@alpha.test',
      to: 'bob@beta.test',
      subject,
      text: 'logos',
      html: `<p>Logos</p>${'<img src="cid:logo@alpha.test" alt="logo" width="8" height="8">'.repeat(180)}`,
      attachments: [{ filename: 'logo.png', content: image, contentType: 'image/png', cid: 'logo@alpha.test' }],
    });
    mx.close();
    const partRequests: string[] = [];
    bob.page.on('request', (request) => {
      if (request.url().includes('/api/part/')) partRequests.push(request.url());
    });
    const frameResponse = bob.page.waitForResponse((response) => response.url().includes('/api/message/frame'));
    await row(bob.page, subject).waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    await row(bob.page, subject).click();
    const document = await (await frameResponse).text();
    assert.ok(document.length < 64 * 1024, `the frame document is ${document.length} characters`);
    const frame = bob.page.frameLocator('iframe.message-frame');
    await frame.locator('img[alt="logo"]').first().waitFor();
    const logos = frame.locator('img[alt="logo"]');
    assert.equal(await logos.count(), 180);
    // The image's own size says it loaded (through the part URL, under the frame's CSP).
    for (let i = 0; i < 50 && (await logos.first().evaluate((img) => (img as { naturalWidth: number }).naturalWidth)) === 0; i += 1) await bob.page.waitForTimeout(100);
    assert.equal(await logos.first().evaluate((img) => (img as { naturalWidth: number }).naturalWidth), 1, 'the inline image loaded');
    assert.equal(await logos.last().evaluate((img) => (img as { naturalWidth: number }).naturalWidth), 1);
    assert.equal(new Set(partRequests).size, 1, `one part URL for 180 references: ${partRequests.length} requests`);
    await shot(bob.page, 'inline-images');
  });

  it('a beta.test message changed after signing is in Junk; its From is marked, and the journey says DKIM and DMARC failed and why', async () => {
    // carol's message, signed with beta.test's key, then changed in transit by someone outside, who hands it to beta-mx1.
    const keys = await loadSigningKeys(resolve(import.meta.dirname, '..', 'mta', 'auth', 'keys'), ['beta.test'], ['lab1']);
    const message = Buffer.from(
      [`From: Carol <carol@beta.test>`, 'To: Bob <bob@beta.test>', `Subject: ${ALTERED}`, `Date: ${new Date().toUTCString()}`,
        `Message-ID: <${TAG}.altered@beta.test>`, '', 'The meeting is at 10 in room 4.', ''].join('\r\n'),
    );
    const signed = await signMessage(message, keys);
    assert.equal(signed.signed, true);
    const altered = Buffer.from(signed.message.toString('latin1').replace('room 4', 'room 5'), 'latin1');
    const mx = createTransport({ host: betaMx.host, port: betaMx.port, secure: false, ignoreTLS: true, name: 'relay.outside.example' });
    await mx.sendMail({ envelope: { from: 'carol@beta.test', to: ['bob@beta.test'] }, raw: altered });
    mx.close();

    await bob.page.locator('#folder-list a', { hasText: 'Junk' }).click();
    await row(bob.page, ALTERED).waitFor({ timeout: ARRIVAL_TIMEOUT_MS });
    await row(bob.page, ALTERED).click();
    await bob.page.waitForSelector('#reader-content .text-body');
    assert.equal(await bob.page.getAttribute('#sender-check', 'data-dmarc'), 'fail');
    assert.match((await bob.page.textContent('#sender-check')) ?? '', /failed DMARC: this message may not be from beta\.test/u);
    await shot(bob.page, 'dmarc-failed');

    await bob.page.click('#tab-journey');
    await bob.page.waitForSelector('#panel-journey .timeline');
    const checks = bob.page.locator('.hop-relay + .hop-auth[data-authserv="mx1.beta.test"]');
    const dkim = checks.locator('.auth-result[data-method="dkim"]');
    assert.equal(await dkim.getAttribute('data-result'), 'fail');
    assert.match((await dkim.locator('.auth-identity').textContent()) ?? '', /d=beta\.test s=lab1/u);
    assert.match((await dkim.locator('.auth-reason').textContent()) ?? '', /changed after it was signed/u);
    const dmarc = checks.locator('.auth-result[data-method="dmarc"]');
    assert.equal(await dmarc.getAttribute('data-result'), 'fail');
    assert.match((await dmarc.locator('.auth-reason').textContent()) ?? '', /Neither SPF nor DKIM passed for beta\.test itself, and it publishes p=quarantine/u);
    const spf = checks.locator('.auth-result[data-method="spf"]').first();
    assert.equal(await spf.getAttribute('data-result'), 'fail');
    assert.match((await spf.locator('.auth-reason').textContent()) ?? '', /does not designate/u);
    await bob.page.setViewportSize({ width: 1360, height: 2000 });
    await shot(bob.page, 'journey-dmarc-failed');
    await bob.page.setViewportSize({ width: 1360, height: 860 });
    await bob.page.click('#tab-message');
    await bob.page.locator('#folder-list a', { hasText: 'Inbox' }).click();
    await row(bob.page, LUNCH).waitFor();
  });

  it('refuses attachments over the limit in plain words, in the dialog and from the server (413)', async () => {
    const carol = await person();
    await logIn(carol, 'carol@beta.test');
    await carol.page.waitForSelector('#app-view:not([hidden])');
    await carol.page.click('#compose-button');
    await compose(carol.page, 'bob@beta.test', `Too big ${TAG}`, 'see attached');
    await carol.page.setInputFiles('#compose-files', { name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(21 * 1024 * 1024) });
    await carol.page.click('#compose-send');
    await carol.page.waitForSelector('#compose-error:not([hidden])');
    assert.equal(await carol.page.textContent('#compose-error'), 'The attachments are too large: at most 20 MB together.');
    await shot(carol.page, 'compose-too-large');
    await carol.page.click('#compose-cancel');
    // The server's own check, for a client that does not look first (the page's fetch, its token).
    const answer = await carol.page.evaluate(async () => {
      const session = (await (await fetch('/api/session')).json()) as { csrf: string };
      const form = new FormData();
      form.append('to', 'bob@beta.test');
      form.append('attachments', new Blob([new Uint8Array(30 * 1024 * 1024)]), 'big.bin');
      const response = await fetch('/api/send', { method: 'POST', headers: { 'X-CSRF-Token': session.csrf }, body: form });
      return { status: response.status, body: (await response.json()) as { error: string } };
    });
    assert.deepEqual(answer, { status: 413, body: { error: 'The attachments are too large: at most 20 MB together.' } });
    await carol.context.close();
    assert.deepEqual(carol.problems.filter((line) => !/status of 413\b/u.test(line)), []);
  });

  it('refuses a POST without the CSRF token with 403', async () => {
    const before = (await (await bob.page.request.get(`${muaUrl}/api/messages?folder=INBOX`)).json()) as { total: number };
    const response = await bob.page.request.post(`${muaUrl}/api/message/delete`, { data: { folder: 'INBOX', uid: 1 } });
    assert.equal(response.status(), 403);
    assert.match(((await response.json()) as { error: string }).error, /CSRF/u);
    const list = (await (await bob.page.request.get(`${muaUrl}/api/messages?folder=INBOX`)).json()) as { total: number };
    assert.equal(list.total, before.total, 'nothing was deleted');
  });

  it('works on a phone-sized screen', async () => {
    const phone = await person({ width: 390, height: 780 });
    await logIn(phone, 'alice@alpha.test');
    await phone.page.waitForSelector('#messages a.row');
    await shot(phone.page, 'phone-inbox');
    await row(phone.page, `Re: ${LUNCH}`).click();
    await phone.page.waitForSelector('#reader-content .text-body');
    assert.equal(await phone.page.isVisible('#message-list'), false, 'one pane at a time');
    await shot(phone.page, 'phone-message');
    await phone.page.click('#tab-journey');
    await phone.page.waitForSelector('#panel-journey .timeline');
    await shot(phone.page, 'phone-journey');
    await phone.context.close();
    assert.deepEqual(phone.problems, []);
  });

  it('left no errors in the consoles', () => {
    assert.deepEqual(alice.problems, []);
    assert.deepEqual(bob.problems, []);
  });
});
