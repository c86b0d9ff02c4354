import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ScanVerdict } from '../../../shared/caller-api.ts';
import { decide, type CallerSettings } from './caller-client.ts';

const settings: CallerSettings = { url: 'http://127.0.0.1:1', timeoutMs: 100, failOpen: false, tagScore: 5, rejectScore: null };

function verdict(overrides: Partial<ScanVerdict>): ScanVerdict {
  return {
    version: 1,
    action: 'accept',
    headers: [],
    spam: { score: 0, tagScore: 5, rejectScore: null, isSpam: false },
    virus: { infected: false, names: [] },
    engines: [],
    elapsedMs: 1,
    ...overrides,
  };
}

describe('caller verdict policy', () => {
  it('tempfails a failed scan unless fail-open', () => {
    const failed = { ok: false as const, reason: 'down' };
    assert.deepEqual(decide(failed, settings), { kind: 'refuse', reply: { code: 451, enhanced: '4.7.1', text: 'Message could not be scanned, try again later' }, why: 'down' });
    assert.deepEqual(decide(failed, { ...settings, failOpen: true }), { kind: 'accept', headers: [], scanned: false });
  });

  it('refuses a virus with 554 5.7.1 whatever the action says', () => {
    const decision = decide({ ok: true, verdict: verdict({ action: 'tag', virus: { infected: true, names: ['Eicar'] } }) }, settings);
    assert.equal(decision.kind, 'refuse');
    assert.equal(decision.kind === 'refuse' && `${decision.reply.code} ${decision.reply.enhanced}`, '554 5.7.1');
  });

  it('refuses spam at the reject score with 550 5.7.1, never without a reject score', () => {
    const spam = verdict({ action: 'tag', spam: { score: 10, tagScore: 5, rejectScore: 10, isSpam: true } });
    const refused = decide({ ok: true, verdict: spam }, { ...settings, rejectScore: 10 });
    assert.equal(refused.kind === 'refuse' && `${refused.reply.code} ${refused.reply.enhanced}`, '550 5.7.1');
    assert.equal(decide({ ok: true, verdict: spam }, settings).kind, 'accept');
  });

  it('keeps tag headers and folds multi-line values with CRLF', () => {
    const decision = decide(
      { ok: true, verdict: verdict({ action: 'tag', headers: [{ name: 'X-Spam-Status', value: 'Yes\n tests=A,\nB' }, { name: 'Bad Name', value: 'x' }] }) },
      settings,
    );
    assert.deepEqual(decision, { kind: 'accept', headers: ['X-Spam-Status: Yes\r\n\ttests=A,\r\n\tB'], scanned: true });
  });
});
