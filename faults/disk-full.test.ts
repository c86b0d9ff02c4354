/**
 * Fault suite, the mail volume full (issue 15): the lab's Maildirs live on a small tmpfs
 * (needs root, as `mount` does; CI runs as root). While it is full the MDA answers a
 * temporary failure, beta-mx1 keeps the mail queued, nothing half-written is left in
 * tmp/; once there is room again each message arrives exactly once. Own net 127.96.x.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runProcess } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from '../scripts/lab-process.ts';
import { adminUrl, deliveredCopies, flushAll, report, sendBurst, settle } from './lib.ts';

const VOLUME_BYTES = 8 * 1024 * 1024;

describe('fault suite: the mail volume full', () => {
  let lab: LabProcess;
  let volume = '';

  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('this scenario mounts a tmpfs: run it as root (CI does)');
    // keepState: the state folder holds the mount point, removed only once it is unmounted.
    lab = await startLabProcess({ loopbackNet: '127.96', keepState: true });
    volume = join(lab.stateDir, 'mail');
    await mkdir(volume, { recursive: true });
    const mounted = await runProcess('mount', ['-t', 'tmpfs', '-o', `size=${VOLUME_BYTES}`, 'mxlab-faults-mail', volume]);
    assert.equal(mounted.code, 0, mounted.stderr);
  });
  after(async () => {
    await lab?.stop();
    if (volume) await runProcess('umount', ['-l', volume]);
    if (lab) await rm(lab.stateDir, { recursive: true, force: true });
  });

  it('defers while the volume is full, leaves nothing half-written, and delivers each message once when room returns', async () => {
    // Fill the volume up to the last few KiB.
    const filler = join(volume, 'filler');
    await writeFile(filler, Buffer.alloc(VOLUME_BYTES - 16 * 1024));
    const burst = await sendBurst(lab, { label: 'diskfull', count: 50 });
    assert.equal(burst.accepted.size, 50, burst.errors.join(' | '));
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await flushAll(lab);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const queued = ((await (await fetch(`${adminUrl(lab, 'beta-mx1')}/queue`)).json()) as { messages: { recipients: { status: string; lastReply?: string }[] }[] }).messages;
    const delivered = (await deliveredCopies(lab, 'diskfull')).size;
    assert.ok(queued.length > 0, 'beta-mx1 keeps what the MDA could not store');
    assert.equal(queued.length + delivered, 50, 'every message is either delivered or still queued');
    assert.ok(queued.every((entry) => entry.recipients.every((state) => state.status !== 'failed')), 'nothing bounced');
    assert.ok(queued.some((entry) => entry.recipients.some((state) => /^4\d\d .*insufficient system storage/u.test(state.lastReply ?? ''))), JSON.stringify(queued[0]));
    const tmp = join(volume, 'beta.test', 'bob', 'tmp');
    assert.deepEqual(await readdir(tmp).catch(() => []), [], 'no half-written file in tmp/');

    await rm(filler);
    const counts = await settle(lab, burst, 'diskfull');
    report('mail volume full', counts, { 'queued while full': queued.length });
    assert.equal(counts.lost, 0);
    assert.equal(counts.duplicated, 0);
  });
});
