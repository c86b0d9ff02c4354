import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../../shared/log.ts';
import { deliveryConfigSchema } from '../delivery/config.ts';
import { startDelivery } from '../delivery/runner.ts';
import { closedPort, startFakePeer, waitFor, type FakePeer } from '../testing/peers.ts';
import { scriptedResolver } from '../testing/scripted-resolver.ts';
import { Spool } from './spool.ts';

const CHILD = fileURLToPath(new URL('../testing/crash-child.ts', import.meta.url));
const MESSAGES = 300;
/** Kill after this many acknowledged enqueues: well inside the burst. */
const KILL_AFTER = 120;
const logger = createLogger('test');

describe('queue crash (kill -9 in the middle of a burst)', () => {
  let dir: string;
  let sink: FakePeer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-crash-'));
    sink = await startFakePeer({ lmtp: true });
  });
  after(async () => {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every acknowledged message exactly once after restart, and no partial one', async () => {
    const acknowledged = new Set<number>();
    const child = spawn(process.execPath, [CHILD, dir, String(await closedPort()), String(MESSAGES)], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const lines = createInterface({ input: child.stdout });
    let killedAt = -1;
    lines.on('line', (line) => {
      const match = /^ok (\d+) /.exec(line);
      if (match === null || killedAt >= 0) return;
      acknowledged.add(Number(match[1]));
      if (acknowledged.size >= KILL_AFTER) {
        killedAt = acknowledged.size;
        child.kill('SIGKILL');
      }
    });
    const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
    assert.equal(await exited, 'SIGKILL');
    clearTimeout(timeout);
    assert.ok(acknowledged.size >= KILL_AFTER && acknowledged.size < MESSAGES, `killed mid-burst (${acknowledged.size} acknowledged)`);

    const queue = await Spool.open({ dir, logger });
    const runner = startDelivery({
      queue,
      config: deliveryConfigSchema.parse({ MTA_DELIVERY_CONCURRENCY: '4' }),
      resolver: scriptedResolver({}),
      hostname: 'mx.alpha.test',
      localDomains: ['alpha.test'],
      relayDomains: [],
      lmtp: { host: sink.host, port: sink.port },
      logger,
    });
    try {
      runner.flush();
      await waitFor(() => queue.size === 0, 60_000, 'the queue to drain');
      await runner.settled();
    } finally {
      await runner.close();
    }

    const deliveries = new Map<number, number>();
    for (const message of sink.received) {
      const text = message.data.toString();
      const n = Number(/^Message-ID: <crash-(\d+)@alpha\.test>$/m.exec(text)?.[1] ?? -1);
      const split = text.indexOf('\r\n\r\n');
      const digest = /^X-Body-SHA256: ([0-9a-f]+)$/m.exec(text)?.[1];
      assert.equal(createHash('sha256').update(text.slice(split + 4)).digest('hex'), digest, `message ${n} is whole`);
      deliveries.set(n, (deliveries.get(n) ?? 0) + 1);
    }
    for (const n of acknowledged) assert.equal(deliveries.get(n), 1, `acknowledged message ${n} delivered exactly once`);
    for (const [n, times] of deliveries) assert.equal(times, 1, `message ${n} delivered once`);
  });
});
