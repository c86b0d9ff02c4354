import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hotSpots, type CpuProfile } from './cpuprofile.ts';

describe('hotSpots', () => {
  it('ranks functions and files by self time', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 1_000_000,
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, hitCount: 0 },
        { id: 2, callFrame: { functionName: 'parse', url: 'file:///r/a.ts', lineNumber: 9 }, hitCount: 6 },
        { id: 3, callFrame: { functionName: 'write', url: 'file:///r/b.ts', lineNumber: 0 }, hitCount: 3 },
        { id: 4, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 }, hitCount: 1 },
      ],
    };
    const result = hotSpots(profile, '/r/');
    assert.equal(result.totalMs, 1000);
    assert.deepEqual(result.functions[0], { name: 'parse a.ts:10', selfMs: 600, percent: 60 });
    assert.equal(result.files[1]?.name, 'b.ts');
    assert.equal(result.files[2]?.name, '((garbage collector))');
  });
});
