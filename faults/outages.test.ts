/**
 * Fault suite, outages (issue 15): the lab DNS answering nothing for a while (its process
 * stopped with SIGSTOP: queries time out), then the primary MX down for the first half of
 * a burst. Mail waits in the queues, nothing bounces, and each accepted message arrives
 * exactly once when the outage ends. The lab runs on its own loopback net (127.95.x).
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from '../scripts/lab-process.ts';
import { adminUrl, deliveredCopies, flushAll, report, sendBurst, settle } from './lib.ts';

async function queueOf(lab: LabProcess, mta: 'alpha-mta' | 'beta-mx1' | 'beta-mx2'): Promise<{ queueId: string; recipients: { status: string; lastReply?: string }[] }[]> {
  return ((await (await fetch(`${adminUrl(lab, mta)}/queue`)).json()) as { messages: { queueId: string; recipients: { status: string; lastReply?: string }[] }[] }).messages;
}

/** Mail in alice's Maildir: the bounces (DSNs) a sender would get. */
async function aliceMail(lab: LabProcess): Promise<number> {
  const dir = join(lab.stateDir, 'mail', 'alpha.test', 'alice');
  let total = 0;
  for (const sub of ['new', 'cur']) total += (await readdir(join(dir, sub)).catch(() => [])).length;
  return total;
}

describe('fault suite: outages', () => {
  let lab: LabProcess;
  const labctl = (...args: string[]) => runProcess(process.execPath, [join(import.meta.dirname, '..', 'scripts', 'labctl.ts'), ...args], { timeoutMs: 60_000, env: lab.env });

  before(async () => {
    lab = await startLabProcess({ loopbackNet: '127.95' });
  });
  after(async () => {
    await lab?.stop();
  });

  it('DNS answering nothing: mail waits in the queue, nothing bounces, then each arrives once', async () => {
    const dns = (await lab.pids()).dns;
    assert.ok(dns);
    process.kill(dns, 'SIGSTOP');
    let burst;
    try {
      burst = await sendBurst(lab, { label: 'dnssilent', count: 100 });
      assert.equal(burst.accepted.size, 100, `submission does not need DNS: ${burst.errors.join(' | ')}`);
      // Two delivery attempts' worth of lookups time out (MTA_DNS_TIMEOUT_MS 3 s, 2 tries).
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      await flushAll(lab);
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      const waiting = await queueOf(lab, 'alpha-mta');
      assert.equal(waiting.length, 100, 'every message waits at alpha-mta');
      assert.ok(waiting.every((entry) => entry.recipients.every((state) => state.status !== 'failed')), 'none failed');
      assert.equal((await deliveredCopies(lab, 'dnssilent')).size, 0);
    } finally {
      process.kill(dns, 'SIGCONT');
    }
    const counts = await settle(lab, burst, 'dnssilent');
    report('DNS silent', counts);
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(await aliceMail(lab), 0, 'no bounce reached the sender');
  });

  it('primary MX down for the first half of a burst: the backup holds the mail, each arrives once', async () => {
    const COUNT = 1000;
    let held = 0;
    const burst = await sendBurst(lab, {
      label: 'primarydown',
      count: COUNT,
      during: async (n) => {
        if (n === 1) assert.equal((await labctl('stop', 'beta-mx1')).code, 0);
        if (n === COUNT / 2) {
          held = (await queueOf(lab, 'beta-mx2')).length;
          assert.equal((await labctl('start', 'beta-mx1')).code, 0);
        }
      },
    });
    const counts = await settle(lab, burst, 'primarydown');
    report('primary MX down for half the burst', counts, { 'held on beta-mx2 at half time': held });
    assert.equal(counts.accepted, COUNT, burst.errors.join(' | '));
    assert.ok(held > 0, 'beta-mx2 held mail while beta-mx1 was down');
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
    assert.equal(await aliceMail(lab), 0, 'no bounce reached the sender');
  });
});
