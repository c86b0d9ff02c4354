import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { agentOfContainer } from './target.ts';

describe('agentOfContainer', () => {
  it('maps compose container names to agent names', () => {
    assert.equal(agentOfContainer('mxlab-beta-mx1-1'), 'beta-mx1');
    assert.equal(agentOfContainer('mxlab_caller_1'), 'caller');
    assert.equal(agentOfContainer('work-dns-1'), 'dns');
    assert.equal(agentOfContainer('mxlab-alpha-mra-2'), 'alpha-mra');
  });
});
