/**
 * The clamd and spamd clients against the real daemons (Debian `clamav-daemon` and
 * `spamassassin`), started on 127.0.0.1 by the test setup. If a daemon cannot start,
 * `before` throws with its output and every test here fails.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { encodeScanRequest, scanVerdictSchema, type ScanRequest, type ScanVerdict } from '../../../shared/caller-api.ts';
import { loadCallerConfig } from '../config.ts';
import { startCaller, type RunningCaller } from '../server.ts';
import { EICAR_SIGNATURE_NAME, startClamd, startSpamd, type RunningDaemon } from '../testing/daemons.ts';
import { GTUBE, message, scanInput, scanRequest, withAttachment } from '../testing/messages.ts';
import { createZip } from '../testing/zip.ts';
import { clamdScan, createClamdEngine } from './clamd.ts';
import { EICAR } from './eicar.ts';
import { runEngine } from './engine.ts';
import { createSpamdEngine, spamdCheck } from './spamd.ts';

/** Real daemons on a shared 2-core machine: generous, but bounded. */
const ENGINE_TIMEOUT_MS = 30_000;
const FOUND = `${EICAR_SIGNATURE_NAME}.UNOFFICIAL`;

describe('real clamd and spamd', () => {
  let clamd: RunningDaemon | undefined;
  let spamd: RunningDaemon | undefined;
  let caller: RunningCaller | undefined;

  before(async () => {
    const [clamdStart, spamdStart] = await Promise.allSettled([startClamd(), startSpamd()]);
    if (clamdStart.status === 'fulfilled') clamd = clamdStart.value;
    if (spamdStart.status === 'fulfilled') spamd = spamdStart.value;
    const failures = [clamdStart, spamdStart].filter((start) => start.status === 'rejected').map((start) => String(start.reason));
    if (failures.length > 0) throw new Error(`engine daemons could not start:\n${failures.join('\n')}`);
  });
  after(async () => {
    await caller?.close();
    await Promise.all([clamd?.stop(), spamd?.stop()]);
  });

  const signal = () => AbortSignal.timeout(ENGINE_TIMEOUT_MS);
  const clamdAddress = () => {
    assert.ok(clamd !== undefined, 'clamd is not running');
    return clamd.address;
  };
  const spamdAddress = () => {
    assert.ok(spamd !== undefined, 'spamd is not running');
    return spamd.address;
  };

  it('clamd: a clean message is OK', async () => {
    assert.deepEqual(await clamdScan(clamdAddress(), message('Hello Bob'), signal()), { status: 'clean' });
  });

  it('clamd: finds EICAR plain, in base64, in quoted-printable and in a zip', async () => {
    const samples: [string, Buffer][] = [
      ['plain', message(`x ${EICAR.toString('latin1')} y`)],
      ['base64', withAttachment('eicar.com', EICAR, 'base64')],
      ['quoted-printable', withAttachment('eicar.txt', EICAR, 'quoted-printable', 'text/plain')],
      ['zip', withAttachment('eicar.zip', createZip([{ name: 'eicar.com', data: EICAR, deflate: true }]), 'base64', 'application/zip')],
    ];
    for (const [label, raw] of samples) {
      assert.deepEqual(await clamdScan(clamdAddress(), raw, signal()), { status: 'infected', name: FOUND }, label);
    }
  });

  it('clamd engine: reports the virus name as an engine result', async () => {
    const result = await runEngine(createClamdEngine(clamdAddress()), scanInput(withAttachment('eicar.com', EICAR, 'base64')), ENGINE_TIMEOUT_MS);
    assert.equal(result.status, 'infected');
    assert.deepEqual(result.viruses, [FOUND]);
  });

  it('spamd REPORT: GTUBE is spam with its rule, score and description', async () => {
    const reply = await spamdCheck(spamdAddress(), message(GTUBE), 'REPORT', signal());
    assert.equal(reply.isSpam, true);
    assert.ok(reply.score >= 1000, `score ${reply.score}`);
    assert.equal(reply.threshold, 5);
    const gtube = reply.rules.find((rule) => rule.name === 'GTUBE');
    assert.equal(gtube?.score, 1000);
    assert.match(gtube?.description ?? '', /Generic Test for Unsolicited Bulk Email/);
  });

  it('spamd SYMBOLS: names the rules; a plain message is ham', async () => {
    const symbols = await spamdCheck(spamdAddress(), message(GTUBE, { Date: null }), 'SYMBOLS', signal());
    assert.ok(symbols.rules.some((rule) => rule.name === 'GTUBE'));
    assert.ok(symbols.rules.some((rule) => rule.name === 'MISSING_DATE'));
    const ham = await runEngine(createSpamdEngine(spamdAddress()), scanInput(message('Hello Bob, lunch at noon on Friday?')), ENGINE_TIMEOUT_MS);
    assert.equal(ham.status, 'scored');
    assert.ok((ham.score ?? 99) < 5, `ham scored ${ham.score}`);
  });

  describe('the caller with both daemons configured', () => {
    const scan = async (raw: Buffer, request: Partial<ScanRequest> = {}): Promise<ScanVerdict> => {
      if (caller === undefined) {
        caller = await startCaller(
          loadCallerConfig({
            CALLER_LISTEN: '127.0.0.1:0',
            CALLER_DNS_SERVER: '127.0.0.1:1',
            CALLER_CLAMD: `${clamdAddress().host}:${clamdAddress().port}`,
            CALLER_SPAMD: `${spamdAddress().host}:${spamdAddress().port}`,
            CALLER_ENGINE_TIMEOUT_MS: String(ENGINE_TIMEOUT_MS),
          }),
        );
      }
      const response = await fetch(`http://127.0.0.1:${caller.http[0]?.port}/v1/scan`, {
        method: 'POST',
        headers: { 'x-mxlab-scan': encodeScanRequest(scanRequest(request)) },
        body: raw,
      });
      assert.equal(response.status, 200);
      return scanVerdictSchema.parse(await response.json());
    };

    it('rejects EICAR with both virus engines\' names', async () => {
      const verdict = await scan(withAttachment('eicar.com', EICAR, 'base64'));
      assert.equal(verdict.action, 'reject');
      assert.equal(verdict.smtp?.code, 554);
      assert.deepEqual(verdict.virus.names.sort(), ['Eicar-Test-Signature', FOUND].sort());
    });

    it('tags GTUBE once, merging spamd\'s rules with the built-in ones', async () => {
      const verdict = await scan(message(GTUBE));
      assert.equal(verdict.action, 'tag');
      assert.deepEqual(verdict.engines.map((result) => `${result.engine}:${result.status}`).sort(), ['builtin-spam:scored', 'builtin-virus:clean', 'clamd:clean', 'spamd:scored']);
      assert.ok(verdict.spam.score >= 1000 && verdict.spam.score < 1100, `GTUBE counted once: ${verdict.spam.score}`);
      const status = verdict.headers.find((header) => header.name === 'X-Spam-Status')?.value ?? '';
      assert.match(status.replace(/\n\t/g, ''), /^Yes, score=10\d\d\.\d required=5\.0 tests=.*GTUBE/);
      assert.match(verdict.headers.find((header) => header.name === 'X-Virus-Scanned')?.value ?? '', /builtin-virus, clamd/);
    });
  });
});
