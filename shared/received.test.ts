import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildReceived, rfc5322Date, withProtocol } from './received.ts';

describe('buildReceived', () => {
  it('names TLS, the authenticated sender and ESMTPSA', () => {
    const header = buildReceived({
      helo: 'client.example',
      clientAddress: '127.0.0.1',
      by: 'mx.alpha.test',
      software: 'mxlab alpha-mta',
      protocol: 'ESMTP',
      tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
      authUser: 'alice@alpha.test',
      id: 'Q1',
      for: 'bob@beta.test',
      date: new Date(Date.UTC(2026, 10, 23, 16, 15, 14)),
    });
    assert.equal(
      header,
      'Received: from client.example ([127.0.0.1])\r\n' +
        '\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384)\r\n' +
        '\t(authenticated sender: alice@alpha.test)\r\n' +
        '\tby mx.alpha.test (mxlab alpha-mta) with ESMTPSA id Q1\r\n' +
        '\tfor <bob@beta.test>; Mon, 23 Nov 2026 16:15:14 +0000\r\n',
    );
  });

  it('cannot be split by a hostile HELO', () => {
    const header = buildReceived({ helo: 'x\r\nBcc: evil', clientAddress: '127.0.0.1', by: 'mx', software: 's', protocol: 'ESMTP' });
    assert.equal(header.split('\r\n').filter((line) => line !== '' && !line.startsWith('\t')).length, 1);
  });

  it('uses RFC 3848 names', () => {
    assert.equal(withProtocol('LMTP', false, false), 'LMTP');
    assert.equal(withProtocol('ESMTP', true, false), 'ESMTPS');
    assert.equal(rfc5322Date(new Date(Date.UTC(2026, 0, 5, 1, 2, 3))), 'Mon, 5 Jan 2026 01:02:03 +0000');
  });
});
