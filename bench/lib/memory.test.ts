import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dockerMemUsage, processMemory, statusField } from './memory.ts';

describe('statusField', () => {
  it('reads kB fields of /proc/<pid>/status as bytes', () => {
    const status = 'Name:\tnode\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\n';
    assert.equal(statusField(status, 'VmHWM'), 204800 * 1024);
    assert.equal(statusField(status, 'VmRSS'), 102400 * 1024);
    assert.equal(statusField(status, 'VmSwap'), undefined);
  });
});

describe('processMemory', () => {
  it('reads this process, peak at least the current size', async () => {
    const memory = await processMemory(process.pid);
    assert.ok(memory);
    assert.ok(memory.rssMb > 1);
    assert.ok(memory.peakMb >= memory.rssMb);
  });
});

describe('dockerMemUsage', () => {
  it('reads binary and decimal units', () => {
    assert.equal(dockerMemUsage('12.5MiB / 1.9GiB'), 12.5);
    assert.equal(dockerMemUsage('1GiB / 2GiB'), 1024);
    assert.equal(dockerMemUsage('512KiB / 2GiB'), 0.5);
    assert.equal(dockerMemUsage('nonsense'), undefined);
  });
});
