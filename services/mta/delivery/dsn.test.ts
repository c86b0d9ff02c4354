import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDsn, headerSection } from './dsn.ts';

const ORIGINAL = Buffer.from(
  'Received: from a by b\r\nFrom: alice@alpha.test\r\nTo: bob@beta.test\r\nSubject: lunch\r\nMessage-ID: <m1@alpha.test>\r\n\r\nsecret body\r\n',
);

describe('DSN (RFC 3464)', () => {
  it('is a multipart/report with a human part, a delivery-status part and the original headers', () => {
    const { message, messageId } = buildDsn({
      reportingMta: 'mx.alpha.test',
      queueId: '019AB3C1F2E4A7F3C2B1',
      envelopeFrom: 'alice@alpha.test',
      arrivalDate: Date.UTC(2026, 10, 23, 16, 0, 0),
      now: Date.UTC(2026, 10, 23, 16, 5, 0),
      recipients: [
        { recipient: 'nobody@beta.test', action: 'failed', status: '5.1.1', diagnostic: '550 5.1.1 no such user', remoteMta: 'mx1.beta.test', lastAttemptAt: Date.UTC(2026, 10, 23, 16, 4, 0) },
      ],
      originalMessage: ORIGINAL,
    });
    const text = message.toString('utf8');
    assert.match(messageId, /^<019AB3C1F2E4A7F3C2B1\.[0-9a-f]+\.dsn@mx\.alpha\.test>$/);
    const split = text.indexOf('\r\n\r\n');
    const head = text.slice(0, split);
    const body = text.slice(split + 4);
    assert.match(head, /^From: Mail Delivery System <MAILER-DAEMON@mx\.alpha\.test>$/m);
    assert.match(head, /^To: <alice@alpha\.test>$/m);
    assert.match(head, /^Auto-Submitted: auto-replied$/m);
    const boundary = /boundary="([^"]+)"/.exec(head)?.[1];
    assert.ok(boundary);
    assert.match(head, /^Content-Type: multipart\/report; report-type=delivery-status;/m);
    const parts = body.split(`--${boundary}`);
    assert.equal(parts.length, 5, 'preamble, three parts, closing');
    assert.match(parts[1] ?? '', /Content-Type: text\/plain/);
    assert.match(parts[1] ?? '', /<nobody@beta\.test>: 550 5\.1\.1 no such user/);
    const status = parts[2] ?? '';
    assert.match(status, /Content-Type: message\/delivery-status/);
    assert.match(status, /^Reporting-MTA: dns; mx\.alpha\.test$/m);
    assert.match(status, /^Arrival-Date: Mon, 23 Nov 2026 16:00:00 \+0000$/m);
    assert.match(status, /^Final-Recipient: rfc822; nobody@beta\.test$/m);
    assert.match(status, /^Action: failed$/m);
    assert.match(status, /^Status: 5\.1\.1$/m);
    assert.match(status, /^Remote-MTA: dns; mx1\.beta\.test$/m);
    assert.match(status, /^Diagnostic-Code: smtp; 550 5\.1\.1 no such user$/m);
    assert.match(status, /\r\n\r\nReporting-MTA[^]*\r\n\r\nFinal-Recipient/, 'per-message and per-recipient fields are separate groups');
    const headers = parts[3] ?? '';
    assert.match(headers, /Content-Type: text\/rfc822-headers/);
    assert.match(headers, /^Message-ID: <m1@alpha\.test>$/m);
    assert.doesNotMatch(text, /secret body/);
    assert.equal(parts[4], '--\r\n');
    assert.doesNotMatch(text.replace(/\r\n/g, ''), /\n/, 'every line ends in CRLF');
  });

  it('says delayed, with Will-Retry-Until, for a delay warning', () => {
    const { message } = buildDsn({
      reportingMta: 'mx.alpha.test',
      queueId: '019AB3C1F2E4A7F3C2B1',
      envelopeFrom: 'alice@alpha.test',
      arrivalDate: 0,
      recipients: [{ recipient: 'bob@beta.test', action: 'delayed', status: '4.4.1', diagnostic: '451 4.4.1 no answer', willRetryUntil: 3_600_000 }],
      originalMessage: ORIGINAL,
    });
    const text = message.toString();
    assert.match(text, /^Subject: Delayed Mail \(still being retried\)$/m);
    assert.match(text, /^Action: delayed$/m);
    assert.match(text, /^Will-Retry-Until: Thu, 1 Jan 1970 01:00:00 \+0000$/m);
  });

  it('takes the header section only, with CRLF line ends', () => {
    assert.equal(headerSection(Buffer.from('A: 1\nB: 2\n\nbody')).toString(), 'A: 1\r\nB: 2\r\n');
  });
});
