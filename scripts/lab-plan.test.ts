import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { labPlan } from './lab-plan.ts';

const root = resolve(import.meta.dirname, '..');

describe('the no-Docker lab plan', () => {
  it('hands MXLAB_CHAOS_PLAN to every MTA (MTA_CHAOS_PLAN) and to the caller (CALLER_CHAOS_PLAN), as an absolute path', () => {
    const plan = labPlan({ root, stateDir: '/tmp/mxlab-plan-test', env: { MXLAB_PROFILES: 'cluster', MXLAB_CHAOS_PLAN: 'docs/chaos/example-plan.json' } });
    const file = join(process.cwd(), 'docs', 'chaos', 'example-plan.json');
    const mtas = plan.filter((agent) => agent.entry === 'services/mta/main.ts');
    assert.equal(mtas.length, 8);
    for (const mta of mtas) assert.equal(mta.env.MTA_CHAOS_PLAN, file, mta.name);
    assert.equal(plan.find((agent) => agent.name === 'caller')?.env.CALLER_CHAOS_PLAN, file);
  });

  it('sets no plan when MXLAB_CHAOS_PLAN is unset', () => {
    for (const agent of labPlan({ root, stateDir: '/tmp/mxlab-plan-test', env: {} })) {
      assert.equal(agent.env.MTA_CHAOS_PLAN ?? agent.env.CALLER_CHAOS_PLAN, undefined, agent.name);
    }
  });
});
