/**
 * Measures SELECT on a generated INBOX of many messages (default 100k) and the process RSS:
 * `node --expose-gc services/mra/testing/select-100k.ts [count]`. Files are written straight into cur/
 * with MDA-style names (no size in the name), as after a bulk import.
 */
import { mkdir, open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startLab } from './harness.ts';
import { RawImap } from './raw-client.ts';

const count = Number(process.argv[2] ?? 100_000);
const lab = await startLab();
try {
  const cur = join(lab.maildir('bob@beta.test'), 'cur');
  await mkdir(cur, { recursive: true });
  const started = performance.now();
  const now = Math.floor(Date.now() / 1000) - count;
  for (let i = 0; i < count; i += 1) {
    const name = `${now + i}.M${i}P1Q${i}R0.bench:2,${i % 3 === 0 ? 'S' : ''}`;
    const handle = await open(join(cur, name), 'w');
    await handle.writeFile(`From: a@alpha.test\r\nSubject: message ${i}\r\n\r\nbody ${i}\r\n`);
    await handle.close();
  }
  console.log(`generated ${count} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  async function measure(label: string): Promise<void> {
    const imap = await RawImap.open(lab.imapPort);
    await imap.command('a', 'LOGIN bob@beta.test secret');
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const reply = await imap.command('b', 'SELECT INBOX', 120_000);
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const exists = /\* (\d+) EXISTS/u.exec(reply)?.[1];
    const t1 = performance.now();
    await imap.command('c', 'UID FETCH 1:* (FLAGS)', 120_000);
    const fetchMs = performance.now() - t1;
    imap.close();
    (globalThis as { gc?: () => void }).gc?.();
    const heap = (process.memoryUsage().heapUsed / 1048576).toFixed(0);
    console.log(`${label}: SELECT ${ms.toFixed(0)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms CPU (EXISTS ${exists}), UID FETCH 1:* (FLAGS) ${fetchMs.toFixed(0)} ms, RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB, heap after GC ${heap} MB`);
  }
  await measure('first open, no index yet');
  await measure('open again, folder shared in memory');
  await lab.restart();
  lab.imapPort = lab.mra.imap[0]?.port ?? 0;
  await measure('after restart, from the index');
} finally {
  await lab.close();
  await rm(lab.dir, { recursive: true, force: true });
}
