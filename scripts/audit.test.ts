import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summarizeAudit } from './audit.ts';

describe('CI dependency audit summary', () => {
  it('says plainly when the registry gave no advisory data', () => {
    const refused = JSON.stringify({ message: '405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk', statusCode: 405, error: { summary: '', detail: '' } });
    assert.deepEqual(summarizeAudit('production dependencies', refused), [
      'npm audit (production dependencies): NOT CHECKED — the registry gave no advisory data: 405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk',
    ]);
    assert.match(summarizeAudit('all dependencies', '')[0] ?? '', /NOT CHECKED — npm printed no report/u);
  });

  it('lists each advisory with its severity and whether a fix exists, worst first', () => {
    const report = JSON.stringify({
      vulnerabilities: {
        busboy: { name: 'busboy', severity: 'moderate', range: '<1.6.1', via: [{ title: 'Slow parsing' }], fixAvailable: { name: 'busboy', version: '1.6.1' } },
        tar: { name: 'tar', severity: 'high', range: '<7', via: ['minizlib'], fixAvailable: false },
      },
    });
    assert.deepEqual(summarizeAudit('all dependencies', report), [
      'npm audit (all dependencies): 2 package(s) with advisories: 1 high, 1 moderate',
      '  high     tar <7: via minizlib (no fix released)',
      '  moderate busboy <1.6.1: Slow parsing (fix: busboy@1.6.1)',
    ]);
    assert.deepEqual(summarizeAudit('all dependencies', JSON.stringify({ vulnerabilities: {} })), ['npm audit (all dependencies): no known advisories']);
  });
});
