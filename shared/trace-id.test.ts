import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeAddress, traceIdOf } from './trace-id.ts';

const id = '019AB3C1F2E4A7F3C2B1';

describe('traceIdOf', () => {
  it('reads host and queue id of the Received field on top, folded or not', () => {
    const folded = Buffer.from(`DKIM-Signature: v=1; d=alpha.test\r\nReceived: from [127.0.0.1] (localhost [127.0.0.1])\r\n\t(authenticated sender: alice@alpha.test)\r\n\tby mx.alpha.test (mxlab alpha-mta) with ESMTPSA id ${id}\r\n\tfor <bob@beta.test>; Thu, 3 Dec 2026 08:00:00 +0000\r\nReceived: from client by mail.example (Postfix) with ESMTP id 4AbC; Thu, 3 Dec 2026\r\nSubject: x\r\n\r\nbody\r\n`);
    assert.deepEqual(traceIdOf(folded), { by: 'mx.alpha.test', id });
  });

  it('takes the lowest of the lab run on top: the origin, whichever path the message took', () => {
    const direct = `Received: from x by mx.alpha.test (mxlab alpha-mta) with ESMTPSA id ${id}; Thu, 3 Dec 2026\r\n`;
    const viaBackup = `Received: from mx.alpha.test by mx2.beta.test (mxlab beta-mx2) with ESMTPS id 019AB3C1F2E4FFFFFFFF; Thu, 3 Dec 2026\r\nARC-Seal: i=1; a=rsa-sha256\r\n${direct}`;
    assert.deepEqual(traceIdOf(Buffer.from(`${direct}Subject: x\r\n\r\n`)), { by: 'mx.alpha.test', id });
    assert.deepEqual(traceIdOf(Buffer.from(`${viaBackup}Subject: x\r\n\r\n`)), { by: 'mx.alpha.test', id });
    // A lab-looking field below a foreign one is not part of the run.
    const below = `Received: from a by b (Postfix); Thu, 3 Dec 2026\r\n${direct}\r\n`;
    assert.equal(traceIdOf(Buffer.from(below)), undefined);
  });

  it('ignores fields not written by mxlab, the body, and ids that are not queue ids', () => {
    assert.equal(traceIdOf(Buffer.from(`Received: from x by mx.example.com (Postfix) with ESMTP id ${id}; Thu, 3 Dec 2026\r\nSubject: x\r\n\r\n`)), undefined);
    assert.equal(traceIdOf(Buffer.from(`Subject: x\r\n\r\nReceived: by mx.alpha.test (mxlab alpha-mta) with ESMTP id ${id}\r\n`)), undefined);
    assert.equal(traceIdOf(Buffer.from(`Received: by mx.alpha.test (mxlab alpha-mta) with ESMTP id ../etc\r\n\r\n`)), undefined);
  });
});

describe('normalizeAddress', () => {
  it('unwraps IPv4-mapped IPv6', () => {
    assert.equal(normalizeAddress('::ffff:172.28.0.10'), '172.28.0.10');
    assert.equal(normalizeAddress('::1'), '::1');
  });
});
