import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { EngineResult } from '../../shared/caller-api.ts';
import { buildVerdict, fold, mergeSpam } from './verdict.ts';

function result(engine: string, kind: 'virus' | 'spam', fields: Partial<EngineResult> = {}): EngineResult {
  return { engine, kind, status: kind === 'spam' ? 'scored' : 'clean', viruses: [], rules: [], elapsedMs: 1, ...fields };
}

const header = (verdict: ReturnType<typeof buildVerdict>, name: string) => verdict.headers.find((entry) => entry.name === name)?.value;
const policy = { tagScore: 5, rejectScore: null };

describe('verdict', () => {
  it('refuses what a scan limit kept out (clamd or built-in) with 554 5.7.0 naming the limit; a real virus comes first', () => {
    const limit = result('clamd', 'virus', { status: 'infected', viruses: ['Heuristics.Limits.Exceeded.MaxFiles'], detail: 'more than 1000 entries in\r\n a.zip' });
    const verdict = buildVerdict(policy, [limit, result('builtin-spam', 'spam', { score: 0 })], 2);
    assert.equal(verdict.action, 'reject');
    assert.deepEqual(verdict.virus, { infected: false, names: [] });
    assert.deepEqual(verdict.smtp, {
      code: 554,
      enhanced: '5.7.0',
      message: 'Message rejected: it cannot be scanned fully (Heuristics.Limits.Exceeded.MaxFiles: more than 1000 entries in?? a.zip)',
    });
    assert.equal(header(verdict, 'X-Virus-Status'), 'Unscanned (Heuristics.Limits.Exceeded.MaxFiles)');
    const virus = buildVerdict(policy, [limit, result('builtin-virus', 'virus', { status: 'infected', viruses: ['Eicar-Test-Signature'] })], 2);
    assert.equal(virus.smtp?.enhanced, '5.7.1');
    assert.equal(header(virus, 'X-Virus-Status'), 'Infected (Eicar-Test-Signature)');
  });

  it('accepts ham with X-Virus-Scanned and X-Spam-Status: No', () => {
    const verdict = buildVerdict(policy, [result('builtin-virus', 'virus'), result('builtin-spam', 'spam', { score: 0.5, rules: [{ name: 'MISSING_MID', score: 0.5, description: 'd' }] })], 3);
    assert.equal(verdict.action, 'accept');
    assert.equal(verdict.smtp, undefined);
    assert.match(header(verdict, 'X-Virus-Scanned') ?? '', /^mxlab-caller \(builtin-virus\)$/);
    assert.equal(header(verdict, 'X-Spam-Status'), 'No, score=0.5 required=5.0 tests=MISSING_MID');
    assert.equal(header(verdict, 'X-Spam-Flag'), undefined);
    assert.deepEqual(verdict.spam, { score: 0.5, tagScore: 5, rejectScore: null, isSpam: false });
  });

  it('tags at the tag score with X-Spam-Flag, X-Spam-Score and the rule list', () => {
    const rules = [
      { name: 'SUBJ_ALL_CAPS', score: 1.5, description: 'd' },
      { name: 'MISSING_DATE', score: 3.5, description: 'd' },
    ];
    const verdict = buildVerdict(policy, [result('builtin-spam', 'spam', { score: 5, rules })], 3);
    assert.equal(verdict.action, 'tag');
    assert.equal(header(verdict, 'X-Spam-Flag'), 'YES');
    assert.equal(header(verdict, 'X-Spam-Score'), '5.0');
    assert.equal(header(verdict, 'X-Spam-Status'), 'Yes, score=5.0 required=5.0 tests=MISSING_DATE,SUBJ_ALL_CAPS');
  });

  it('rejects spam at the reject score with 550 5.7.1, and never without one', () => {
    const spam = [result('builtin-spam', 'spam', { score: 1000, rules: [{ name: 'GTUBE', score: 1000, description: 'd' }] })];
    const rejected = buildVerdict({ tagScore: 5, rejectScore: 10 }, spam, 1);
    assert.equal(rejected.action, 'reject');
    assert.deepEqual(rejected.smtp, { code: 550, enhanced: '5.7.1', message: 'Message rejected as spam (score 1000.0, reject at 10.0)' });
    assert.equal(buildVerdict(policy, spam, 1).action, 'tag');
  });

  it('rejects a virus with 554 5.7.1 naming it, even when another engine failed', () => {
    const verdict = buildVerdict(policy, [result('clamd', 'virus', { status: 'infected', viruses: ['Eicar-Signature'] }), result('spamd', 'spam', { status: 'timeout' })], 1);
    assert.equal(verdict.action, 'reject');
    assert.deepEqual(verdict.smtp, { code: 554, enhanced: '5.7.1', message: 'Message rejected: virus found (Eicar-Signature)' });
    assert.deepEqual(verdict.virus, { infected: true, names: ['Eicar-Signature'] });
    assert.equal(header(verdict, 'X-Virus-Status'), 'Infected (Eicar-Signature)');
  });

  it('tempfails with 451 4.7.1 when an engine errs or times out', () => {
    const verdict = buildVerdict(policy, [result('builtin-virus', 'virus'), result('clamd', 'virus', { status: 'timeout' })], 1);
    assert.equal(verdict.action, 'tempfail');
    assert.equal(verdict.smtp?.code, 451);
    assert.equal(verdict.smtp?.enhanced, '4.7.1');
    assert.match(verdict.smtp?.message ?? '', /clamd timeout/);
  });

  it('merges spamd and built-in hits by name, counting a shared rule once', () => {
    const merged = mergeSpam([
      result('builtin-spam', 'spam', { score: 1001.4, rules: [{ name: 'GTUBE', score: 1000, description: 'b' }, { name: 'MISSING_DATE', score: 1.4, description: 'b' }] }),
      result('spamd', 'spam', { score: 1000.5, rules: [{ name: 'GTUBE', score: 1000, description: 's' }, { name: 'MISSING_MID', score: 0.5, description: 's' }] }),
    ]);
    assert.equal(merged.score, 1001.9);
    assert.deepEqual(merged.rules.map((rule) => `${rule.name}:${rule.description}`), ['GTUBE:s', 'MISSING_MID:s', 'MISSING_DATE:b']);
  });

  it('folds long header values with a tab', () => {
    const original = `Yes, score=9.0 required=5.0 tests=${Array.from({ length: 12 }, (_, i) => `RULE_NUMBER_${i}`).join(',')}`;
    const value = fold(original, 15);
    const lines = value.split('\n');
    assert.ok(lines.length > 1);
    assert.ok(lines.slice(1).every((line) => line.startsWith('\t') && line.length <= 78));
    assert.equal(value.replace(/\s+/g, ''), original.replace(/\s+/g, ''));
  });
});
