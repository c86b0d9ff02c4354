import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { join } from 'node:path';
import { alterOneBodyByte } from './body-fault.ts';
import { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { planFor, readPlanFile } from '../../../shared/chaos/plan-file.ts';

const text = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'latin1');

describe('alter-body', () => {
  it('swaps the case of the first letter of the body, and nothing else', () => {
    const message = text(['From: carol@beta.test', 'Subject: Meet', '', '  10:00 in room 4.', '']);
    const altered = alterOneBodyByte(message);
    assert.ok(altered);
    // The first letter or digit: the "1" of 10:00.
    assert.deepEqual([altered.before, altered.after], ['1', '2']);
    assert.equal(altered.message.toString('latin1'), 'From: carol@beta.test\r\nSubject: Meet\r\n\r\n  20:00 in room 4.\r\n');
    assert.equal(altered.message.length, message.length);
    assert.equal(message.toString('latin1').includes('10:00'), true, 'the original buffer is untouched');
    const letter = alterOneBodyByte(text(['Subject: x', '', 'hello', '']));
    assert.equal(letter?.message.toString('latin1'), 'Subject: x\r\n\r\nHello\r\n');
  });

  it('leaves MIME boundary lines whole', () => {
    const message = text(['Content-Type: multipart/alternative; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'hi', '--b1--', '']);
    const altered = alterOneBodyByte(message);
    assert.equal(altered?.message.toString('latin1'), message.toString('latin1').replace('Content-Type: text/plain', 'content-Type: text/plain'));
  });

  it('reads bare-LF messages, and changes nothing in a body with no letter or digit', () => {
    assert.equal(alterOneBodyByte(Buffer.from('Subject: x\n\nok\n'))?.message.toString(), 'Subject: x\n\nOk\n');
    assert.equal(alterOneBodyByte(text(['Subject: x', '', '...', ''])), undefined);
    assert.equal(alterOneBodyByte(Buffer.from('Subject: no body at all')), undefined);
  });

  it('is a rule kind of the fault plan: docs/chaos/alter-body-plan.json loads, and fires for mx1.beta.test only', async () => {
    const file = join(import.meta.dirname, '..', '..', '..', 'docs', 'chaos', 'alter-body-plan.json');
    const chaos = new ChaosEngine();
    const loaded = chaos.replace(planFor(await readPlanFile(file), 'beta-mx2', file));
    assert.equal(loaded.ok, true, loaded.ok ? '' : loaded.error);
    assert.deepEqual(chaos.outbound({ domain: 'beta.test', exchange: 'mx1.beta.test', address: '172.28.0.20' }), { ruleId: 'alter-to-mx1', fault: 'alter-body' });
    assert.equal(chaos.outbound({ domain: 'delta.test', exchange: 'mx.delta.test', address: '172.28.0.40' }), undefined);
  });
});
