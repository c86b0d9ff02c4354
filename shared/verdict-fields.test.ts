import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { withOnlyDeliveringVerdict, withoutVerdictFields } from './verdict-fields.ts';

const msg = (text: string) => Buffer.from(text.replace(/\n/gu, '\r\n'), 'latin1');
const str = (buffer: Buffer) => buffer.toString('latin1').replace(/\r\n/gu, '\n');

describe('verdict fields', () => {
  it('an MTA removes every verdict field, folded ones whole, and leaves the body alone', () => {
    const input = msg('X-Virus-Status: Clean\nSubject: hi\nx-spam-status: No,\n\tscore=-5\nFrom: a@b.test\n\nX-Spam-Flag: NO\n');
    assert.equal(str(withoutVerdictFields(input)), 'Subject: hi\nFrom: a@b.test\n\nX-Spam-Flag: NO\n');
  });

  it('returns a message without verdict fields unchanged', () => {
    const input = msg('Subject: hi\n\nbody\n');
    assert.equal(withoutVerdictFields(input), input);
    assert.equal(withOnlyDeliveringVerdict(input), input);
  });

  it('the MDA keeps only the run right below the topmost Received', () => {
    const input = msg(
      [
        'Received: from mx1 by lmtp; Thu, 3 Dec 2026 08:00:00 +0000',
        'X-Virus-Scanned: mxlab-caller',
        'X-Virus-Status: Infected (EICAR)',
        'X-Spam-Flag: YES',
        'Received: from evil by mx1; Thu, 3 Dec 2026 07:59:00 +0000',
        'X-Virus-Status: Clean',
        'Subject: hi',
        'X-Spam-Flag: NO',
        '',
        'body',
        '',
      ].join('\n'),
    );
    assert.equal(
      str(withOnlyDeliveringVerdict(input)),
      [
        'Received: from mx1 by lmtp; Thu, 3 Dec 2026 08:00:00 +0000',
        'X-Virus-Scanned: mxlab-caller',
        'X-Virus-Status: Infected (EICAR)',
        'X-Spam-Flag: YES',
        'Received: from evil by mx1; Thu, 3 Dec 2026 07:59:00 +0000',
        'Subject: hi',
        '',
        'body',
        '',
      ].join('\n'),
    );
  });

  it('the MDA keeps the delivering hop\'s verdict past its Authentication-Results, and no quarantine note from below', () => {
    const input = msg(
      [
        'Received: from mx.alpha.test by mx1.beta.test; Thu, 3 Dec 2026 08:00:00 +0000',
        'Authentication-Results: mx1.beta.test; dkim=fail header.d=beta.test; dmarc=fail header.from=beta.test',
        'X-Mxlab-Quarantine: From domain beta.test fails DMARC',
        'X-Spam-Flag: NO',
        'Received: from evil by mx.alpha.test; Thu, 3 Dec 2026 07:59:00 +0000',
        'Authentication-Results: mx.alpha.test; none',
        'X-Mxlab-Quarantine: planted',
        'X-Spam-Flag: YES',
        '',
        'body',
        '',
      ].join('\n'),
    );
    assert.equal(
      str(withOnlyDeliveringVerdict(input)),
      [
        'Received: from mx.alpha.test by mx1.beta.test; Thu, 3 Dec 2026 08:00:00 +0000',
        'Authentication-Results: mx1.beta.test; dkim=fail header.d=beta.test; dmarc=fail header.from=beta.test',
        'X-Mxlab-Quarantine: From domain beta.test fails DMARC',
        'X-Spam-Flag: NO',
        'Received: from evil by mx.alpha.test; Thu, 3 Dec 2026 07:59:00 +0000',
        'Authentication-Results: mx.alpha.test; none',
        '',
        'body',
        '',
      ].join('\n'),
    );
    assert.equal(str(withoutVerdictFields(msg('X-Mxlab-Quarantine: planted\nSubject: hi\n\nbody\n'))), 'Subject: hi\n\nbody\n');
  });

  it('the MDA keeps nothing when the message does not start with a Received field', () => {
    const input = msg('X-Virus-Status: Clean\nReceived: from x by y; date\nX-Spam-Flag: NO\n\nbody\n');
    assert.equal(str(withOnlyDeliveringVerdict(input)), 'Received: from x by y; date\n\nbody\n');
  });
});
