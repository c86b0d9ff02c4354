import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EICAR_TEXT, message, scanInput, withAttachment } from '../testing/messages.ts';
import { createZip } from '../testing/zip.ts';
import { createEicarEngine, EICAR, EICAR_VIRUS_NAME } from './eicar.ts';

const engine = createEicarEngine();
const scan = (raw: Buffer) => engine.scan(scanInput(raw), new AbortController().signal);

describe('built-in virus engine (EICAR)', () => {
  it('passes a clean message', async () => {
    assert.deepEqual(await scan(message('Hello Bob')), { status: 'clean' });
  });

  it('finds EICAR in the raw message', async () => {
    const outcome = await scan(message(`before ${EICAR_TEXT} after`));
    assert.equal(outcome.status, 'infected');
    assert.deepEqual(outcome.status === 'infected' && outcome.viruses, [EICAR_VIRUS_NAME]);
    assert.match(outcome.detail ?? '', /text\/plain \(7bit\)/);
  });

  it('finds EICAR where no part holds it (a header) in the raw message', async () => {
    const outcome = await scan(message('clean body', { 'X-Test': EICAR_TEXT }));
    assert.equal(outcome.status, 'infected');
    assert.match(outcome.detail ?? '', /raw message/);
  });

  it('finds EICAR in a base64 attachment', async () => {
    const raw = withAttachment('eicar.com', EICAR, 'base64');
    assert.ok(!raw.includes(EICAR), 'the raw message must not hold the plain string');
    const outcome = await scan(raw);
    assert.equal(outcome.status, 'infected');
    assert.match(outcome.detail ?? '', /eicar\.com \(base64\)/);
  });

  it('finds EICAR in a quoted-printable part', async () => {
    const raw = withAttachment('eicar.txt', EICAR, 'quoted-printable', 'text/plain');
    assert.ok(!raw.includes(EICAR));
    const outcome = await scan(raw);
    assert.equal(outcome.status, 'infected');
    assert.match(outcome.detail ?? '', /quoted-printable/);
  });

  it('finds EICAR inside a zip attachment, stored or deflated, and in a zip inside a zip', async () => {
    for (const deflate of [false, true]) {
      const zip = createZip([{ name: 'readme.txt', data: Buffer.from('hello') }, { name: 'dir/eicar.com', data: EICAR, deflate }]);
      const outcome = await scan(withAttachment('archive.zip', zip, 'base64', 'application/zip'));
      assert.equal(outcome.status, 'infected', `deflate=${deflate}`);
      assert.match(outcome.detail ?? '', /archive\.zip \(base64\)\/dir\/eicar\.com/);
    }
    const inner = createZip([{ name: 'eicar.com', data: EICAR, deflate: true }]);
    const outer = createZip([{ name: 'inner.zip', data: inner, deflate: true }]);
    const nested = await scan(withAttachment('outer.zip', outer, 'base64', 'application/zip'));
    assert.match(nested.detail ?? '', /outer\.zip \(base64\)\/inner\.zip\/eicar\.com/);
  });

  it('passes a clean zip and a broken one', async () => {
    const zip = createZip([{ name: 'a.txt', data: Buffer.from('nothing here'), deflate: true }]);
    assert.equal((await scan(withAttachment('a.zip', zip, 'base64'))).status, 'clean');
    const broken = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(40, 7)]);
    assert.equal((await scan(withAttachment('b.zip', broken, 'base64'))).status, 'clean');
  });
});
