import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScanRequest } from '../../../shared/caller-api.ts';
import { createBuiltinSpamEngine } from '../engines/builtin-spam.ts';
import { fakeDns, type FakeZone } from '../testing/fake-dns.ts';
import { GTUBE, message, scanInput } from '../testing/messages.ts';
import { SPAM_RULES, type SpamRulesConfig } from './rules.ts';

const DEFAULTS: SpamRulesConfig = { blockedSenders: [], blockedUrls: [], manyRecipients: 10 };

async function hits(raw: Buffer, request: Partial<ScanRequest> = {}, config: Partial<SpamRulesConfig> = {}, zone?: FakeZone) {
  const engine = createBuiltinSpamEngine({
    ...DEFAULTS,
    ...config,
    dnsServer: { host: '127.0.0.1', port: 1 },
    engineTimeoutMs: 1000,
    dns: () => fakeDns(zone),
  });
  const outcome = await engine.scan(scanInput(raw, request), new AbortController().signal);
  assert.equal(outcome.status, 'scored');
  if (outcome.status !== 'scored') throw new Error('not scored');
  return { names: outcome.rules.map((rule) => rule.name), score: outcome.score, rules: outcome.rules, detail: outcome.detail };
}

describe('built-in spam rules', () => {
  it('scores a well-formed lab message from the right address as ham with SPF_PASS only', async () => {
    const result = await hits(message('Hello Bob, lunch at noon?'));
    assert.deepEqual(result.names, ['SPF_PASS']);
    assert.equal(result.score, 0);
    assert.match(result.detail ?? '', /spf=pass \(alpha\.test: mx\)/);
  });

  it('counts the MTA\'s DKIM and DMARC failures (DKIM_INVALID, DMARC_QUAR, DMARC_REJECT, DMARC_NONE)', async () => {
    const auth = (dkim: string, dmarc: string, policy?: string): Partial<ScanRequest> => ({
      auth: { spf: 'fail', helo: 'none', dkim: [{ domain: 'beta.test', selector: 'lab1', result: dkim }], dmarc: { result: dmarc, domain: 'beta.test', ...(policy ? { policy } : {}) }, arc: 'none' },
    });
    const passing = await hits(message('hi'), auth('pass', 'pass', 'quarantine'));
    assert.deepEqual(passing.names.filter((name) => /^(DKIM|DMARC)_/u.test(name)), []);
    const quarantined = await hits(message('hi'), auth('fail', 'fail', 'quarantine'));
    assert.deepEqual(quarantined.names.filter((name) => /^(DKIM|DMARC)_/u.test(name)), ['DKIM_INVALID', 'DMARC_QUAR']);
    assert.deepEqual((await hits(message('hi'), auth('none', 'fail', 'reject'))).names.filter((name) => name.startsWith('DMARC_')), ['DMARC_REJECT']);
    assert.deepEqual((await hits(message('hi'), auth('none', 'fail'))).names.filter((name) => name.startsWith('DMARC_')), ['DMARC_NONE']);
    assert.equal(quarantined.score - passing.score, 3.5);
  });

  it('takes SPF from the lab\'s own backup MX (trusted ARC seal) for mail it forwarded, not from the backup\'s address', async () => {
    const auth = (trustedForwarder?: { sealer: string; spf: string }): Partial<ScanRequest> => ({
      mailFrom: 'alice@alpha.test',
      clientAddress: '127.28.0.21',
      auth: { spf: 'fail', helo: 'pass', dkim: [{ domain: 'alpha.test', selector: 'lab1', result: 'pass' }], dmarc: { result: 'pass', domain: 'alpha.test', policy: 'reject' }, arc: 'pass', ...(trustedForwarder ? { trustedForwarder } : {}) },
    });
    const direct = await hits(message('hi'), auth());
    assert.ok(direct.names.includes('SPF_FAIL'), 'from mx2\'s address, alpha.test\'s SPF fails');
    const forwarded = await hits(message('hi'), auth({ sealer: 'beta.test', spf: 'pass' }));
    assert.deepEqual(forwarded.names.filter((name) => name.startsWith('SPF_')), ['SPF_PASS']);
    assert.match(forwarded.detail ?? '', /spf=pass \(alpha\.test: at beta\.test's backup MX, trusted ARC seal\)/u);
    assert.ok((await hits(message('hi'), auth({ sealer: 'beta.test', spf: 'fail' }))).names.includes('SPF_FAIL'), 'a failure at the border still counts');
  });

  it('GTUBE: spam for certain, also in a base64 text part', async () => {
    const result = await hits(message(`x ${GTUBE} y`));
    assert.ok(result.names.includes('GTUBE'));
    assert.ok(result.score >= 1000);
    const encoded = message(Buffer.from(GTUBE).toString('base64'), { 'Content-Transfer-Encoding': 'base64' });
    assert.ok(!encoded.includes(GTUBE));
    assert.ok((await hits(encoded)).names.includes('GTUBE'));
    const rule = result.rules.find((hit) => hit.name === 'GTUBE');
    assert.deepEqual(rule, { name: 'GTUBE', score: 1000, description: 'BODY: Generic Test for Unsolicited Bulk Email' });
  });

  it('MISSING_DATE and MISSING_MID', async () => {
    const result = await hits(message('hi', { Date: null, 'Message-ID': null }));
    assert.deepEqual(result.names.filter((name) => name.startsWith('MISSING')), ['MISSING_DATE', 'MISSING_MID']);
    assert.equal(result.score, 1.9);
  });

  it('MISSING_SUBJECT, EMPTY_SUBJECT and SUBJ_ALL_CAPS', async () => {
    assert.ok((await hits(message('hi', { Subject: null }))).names.includes('MISSING_SUBJECT'));
    assert.ok((await hits(message('hi', { Subject: '   ' }))).names.includes('EMPTY_SUBJECT'));
    assert.ok((await hits(message('hi', { Subject: 'BUY NOW, LIMITED OFFER!!!' }))).names.includes('SUBJ_ALL_CAPS'));
    assert.ok((await hits(message('hi', { Subject: '=?utf-8?Q?=C3=9CBERRASCHUNG_F=C3=9CR_SIE?=' }))).names.includes('SUBJ_ALL_CAPS'));
    for (const subject of ['OK', 'Meeting at 10', 'RE: 12345 !!', 'IBM and NASA news']) {
      assert.ok(!(await hits(message('hi', { Subject: subject }))).names.includes('SUBJ_ALL_CAPS'), subject);
    }
  });

  it('MIME_HTML_ONLY, not for multipart/alternative with a text part', async () => {
    assert.ok((await hits(message('<p>Hi</p>', { 'Content-Type': 'text/html' }))).names.includes('MIME_HTML_ONLY'));
    const alternative = message('--a\r\nContent-Type: text/plain\r\n\r\nHi\r\n--a\r\nContent-Type: text/html\r\n\r\n<p>Hi</p>\r\n--a--\r\n', {
      'Content-Type': 'multipart/alternative; boundary=a',
    });
    assert.ok(!(await hits(alternative)).names.includes('MIME_HTML_ONLY'));
  });

  it('MANY_RCPTS by envelope or by To:/Cc:', async () => {
    const many = Array.from({ length: 10 }, (_, i) => `u${i}@beta.test`);
    assert.ok((await hits(message('hi'), { rcptTo: many })).names.includes('MANY_RCPTS'));
    assert.ok((await hits(message('hi', { Cc: many.join(', ') }))).names.includes('MANY_RCPTS'));
    assert.ok(!(await hits(message('hi'), { rcptTo: many.slice(0, 9) })).names.includes('MANY_RCPTS'));
    assert.ok((await hits(message('hi'), { rcptTo: many.slice(0, 3) }, { manyRecipients: 3 })).names.includes('MANY_RCPTS'));
  });

  it('SENDER_NO_MX_A for a domain the lab DNS does not know, not for one with only an A record', async () => {
    const unknown = await hits(message('hi'), { mailFrom: 'x@nowhere.test' });
    assert.ok(unknown.names.includes('SENDER_NO_MX_A'));
    const aOnly = await hits(message('hi'), { mailFrom: 'x@host.test' }, {}, { a: { 'host.test': ['192.0.2.1'] } });
    assert.ok(!aOnly.names.includes('SENDER_NO_MX_A'));
    assert.ok(!(await hits(message('hi'), { mailFrom: '' })).names.includes('SENDER_NO_MX_A'), 'null sender');
  });

  it('SPF_FAIL for a lab domain sent from another address; SPF from HELO for the null sender', async () => {
    const fail = await hits(message('hi'), { clientAddress: '127.0.0.1' });
    assert.ok(fail.names.includes('SPF_FAIL'));
    assert.equal(fail.rules.find((rule) => rule.name === 'SPF_FAIL')?.score, 3);
    const bounce = await hits(message('hi'), { mailFrom: '', helo: 'beta.test', clientAddress: '127.28.0.21' });
    assert.ok(bounce.names.includes('SPF_PASS'));
    const soft = await hits(message('hi'), { mailFrom: 'x@soft.test' }, {}, { mx: { 'soft.test': ['mx.soft.test'] }, txt: { 'soft.test': ['v=spf1 ~all'] } });
    assert.ok(soft.names.includes('SPF_SOFTFAIL'));
  });

  it('leaves DNS rules out, with a note, when the lab DNS does not answer', async () => {
    const result = await hits(message('hi'), {}, {}, { failing: ['alpha.test'] });
    assert.deepEqual(result.names, []);
    assert.match(result.detail ?? '', /spf=temperror/);
    assert.match(result.detail ?? '', /SENDER_NO_MX_A not evaluated/);
  });

  it('BLOCKED_SENDER by envelope address, From: address or domain', async () => {
    assert.ok((await hits(message('hi'), {}, { blockedSenders: ['alice@alpha.test'] })).names.includes('BLOCKED_SENDER'));
    assert.ok((await hits(message('hi', { From: 'Eve <eve@evil.test>' }), {}, { blockedSenders: ['evil.test'] })).names.includes('BLOCKED_SENDER'));
    assert.ok((await hits(message('hi'), { mailFrom: 'x@mail.evil.test' }, { blockedSenders: ['evil.test'] })).names.includes('BLOCKED_SENDER'));
    assert.ok(!(await hits(message('hi'), {}, { blockedSenders: ['bob@alpha.test', 'notalpha.test'] })).names.includes('BLOCKED_SENDER'));
  });

  it('BLOCKED_URL by host (and subdomains) or by URL prefix, in text and HTML', async () => {
    const text = message('see https://www.bad.test/offer?id=1 now');
    assert.ok((await hits(text, {}, { blockedUrls: ['bad.test'] })).names.includes('BLOCKED_URL'));
    assert.ok((await hits(text, {}, { blockedUrls: ['https://www.bad.test/offer'] })).names.includes('BLOCKED_URL'));
    assert.ok(!(await hits(text, {}, { blockedUrls: ['www.bad.test/other', 'ad.test'] })).names.includes('BLOCKED_URL'));
    const html = message('<a href="http://bad.test/x">click</a>', { 'Content-Type': 'text/html' });
    assert.ok((await hits(html, {}, { blockedUrls: ['bad.test'] })).names.includes('BLOCKED_URL'));
  });

  it('every rule has a SpamAssassin-style name and a description', () => {
    for (const rule of SPAM_RULES) assert.match(rule.name, /^[A-Z][A-Z0-9_]+$/);
    assert.equal(new Set(SPAM_RULES.map((rule) => rule.name)).size, SPAM_RULES.length);
  });
});
