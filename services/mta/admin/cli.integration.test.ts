import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../../shared/log.ts';
import { closedPort } from '../testing/peers.ts';
import { Spool } from '../queue/spool.ts';
import { createAdminApp } from './app.ts';
import { listenAdmin, type AdminServerHandle } from './listen.ts';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const run = promisify(execFile);
const logger = createLogger('test');

async function cli(args: string[], adminUrl: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, MTA_ADMIN_URL: adminUrl }, timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('npm run queue (services/mta/cli.ts)', () => {
  let dir: string;
  let spool: Spool;
  let server: AdminServerHandle;
  let url: string;
  let queueId: string;
  const flushed: (string | undefined)[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-cli-'));
    spool = await Spool.open({ dir, logger });
    ({ queueId } = await spool.enqueue({
      mailFrom: 'alice@alpha.test',
      rcptTo: ['bob@beta.test'],
      message: Buffer.from('Subject: x\r\n\r\ny\r\n'),
      messageId: '<c1@alpha.test>',
      source: 'submission',
      clientAddress: '127.0.0.1',
    }));
    await spool.updateRecipient(queueId, 'bob@beta.test', { status: 'deferred', attempts: 2, lastReply: '451 4.4.1 mx1.beta.test: connection refused' });
    const runner = { flush: (id?: string) => (flushed.push(id), true), inFlight: () => [], kick: () => undefined, expireOverdue: async () => [] };
    server = await listenAdmin(createAdminApp({ queue: spool, runner, logger }), [{ host: '127.0.0.1', port: 0 }]);
    url = `http://127.0.0.1:${server.addresses[0]?.port}`;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the queue over the admin endpoint and from the spool directory', async () => {
    const listed = await cli(['list'], url);
    assert.equal(listed.code, 0, listed.stderr);
    assert.match(listed.stdout, new RegExp(`^${queueId} .*<alice@alpha\\.test>  <c1@alpha\\.test>$`, 'm'));
    assert.match(listed.stdout, /^ {4}bob@beta\.test {2}deferred {2}attempts 2 next /m);
    assert.match(listed.stdout, /\(451 4\.4\.1 mx1\.beta\.test: connection refused\)/);
    const offline = await cli(['list', '--json', '--spool', dir], 'http://127.0.0.1:1');
    assert.equal(offline.code, 0, offline.stderr);
    assert.deepEqual((JSON.parse(offline.stdout) as { queueId: string }[]).map((m) => m.queueId), [queueId]);
  });

  it('flushes all or one message and deletes one', async () => {
    assert.match((await cli(['flush'], url)).stdout, /^flushed 1 message\n$/);
    assert.match((await cli(['flush', queueId], url)).stdout, /^flushed 1 message\n$/);
    assert.deepEqual(flushed, [undefined, queueId]);
    assert.equal((await cli(['delete', '0000000000000000BEEF'], url)).code, 1);
    assert.equal((await cli(['delete', queueId], url)).stdout, `deleted ${queueId}\n`);
    assert.equal((await cli(['list'], url)).stdout, 'Mail queue is empty\n');
  });

  it('explains usage mistakes and an unreachable MTA', async () => {
    const viaFlag = await cli(['--url', url, 'list'], 'http://127.0.0.1:1');
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    assert.equal((await cli(['--mta', 'nowhere', 'list'], url)).code, 2);
    const usage = await cli(['frobnicate'], url);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /unknown command frobnicate\nusage: npm run queue/);
    const down = await cli(['list'], `http://127.0.0.1:${await closedPort()}`);
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the MTA admin endpoint/);
  });
});
