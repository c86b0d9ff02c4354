import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createLogger } from '../../../shared/log.ts';
import { Spool } from '../queue/spool.ts';
import { createAdminApp, type AdminRunner } from './app.ts';
import { listenAdmin, type AdminServerHandle } from './listen.ts';

const logger = createLogger('test');
const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));
const TOKEN = 'lab-admin-token-0123456789';

/** A raw HTTP request: fetch() would not let a test choose the Host header. */
function send(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.85.0.21', port, method, path, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

class CountingRunner implements AdminRunner {
  flushes = 0;
  flush(): boolean {
    this.flushes += 1;
    return true;
  }
  inFlight(): string[] {
    return [];
  }
  kick(): void {}
  async expireOverdue(): Promise<string[]> {
    return [];
  }
}

describe('MTA admin guard (DNS rebinding, cross-site requests, MXLAB_ADMIN_TOKEN)', () => {
  let dir: string;
  let spool: Spool;
  const servers: AdminServerHandle[] = [];
  const open = new CountingRunner();
  const locked = new CountingRunner();
  let openPort = 0;
  let lockedPort = 0;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-admin-guard-'));
    spool = await Spool.open({ dir, logger });
    const guard = { names: ['mx.alpha.test', 'smtp.alpha.test'] };
    servers.push(await listenAdmin(createAdminApp({ queue: spool, runner: open, logger, name: 'alpha-mta', guard }), [{ host: '127.85.0.21', port: 0 }]));
    servers.push(
      await listenAdmin(createAdminApp({ queue: spool, runner: locked, logger, name: 'alpha-mta', guard: { ...guard, token: TOKEN } }), [{ host: '127.85.0.21', port: 0 }]),
    );
    [openPort, lockedPort] = servers.map((server) => server.addresses[0]?.port ?? 0) as [number, number];
  });
  after(async () => {
    await Promise.all(servers.map((server) => server.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('answers its own names and addresses, and refuses any other Host (DNS rebinding) with 403', async () => {
    for (const host of [`127.85.0.21:${openPort}`, 'localhost', `mx.alpha.test:${openPort}`, 'MX.Alpha.Test.', 'alpha-mta:8026', '[::1]:8026']) {
      assert.equal((await send(openPort, 'GET', '/queue', { host })).status, 200, host);
    }
    const rebound = await send(openPort, 'POST', '/queue/flush', { host: `rebind.evil.example:${openPort}` });
    assert.equal(rebound.status, 403);
    assert.match(rebound.body, /is not this MTA/u);
    assert.equal((await send(openPort, 'GET', '/queue', { host: 'mx.alpha.test.evil.example' })).status, 403);
    assert.equal(open.flushes, 0);
  });

  it('refuses cross-site browser requests and non-JSON bodies before doing anything', async () => {
    const own = `127.85.0.21:${openPort}`;
    const cases: [Record<string, string>, string | undefined, number][] = [
      [{ host: own, 'content-type': 'text/plain' }, 'x', 415],
      [{ host: own, 'content-type': 'application/x-www-form-urlencoded' }, 'a=b', 415],
      [{ host: own, 'sec-fetch-site': 'cross-site' }, undefined, 403],
      [{ host: own, 'sec-fetch-site': 'same-site' }, undefined, 403],
      [{ host: own, origin: 'http://evil.example' }, undefined, 403],
      [{ host: own, origin: 'http://127.0.0.1:8080' }, undefined, 403],
      [{ host: own, origin: 'null' }, undefined, 403],
    ];
    for (const [headers, body, status] of cases) {
      const answer = await send(openPort, 'POST', '/queue/flush', headers, body);
      assert.equal(answer.status, status, JSON.stringify(headers));
      assert.match(answer.body, /"error"/u);
    }
    assert.equal(open.flushes, 0, 'none of them flushed the queue');
    assert.equal((await send(openPort, 'POST', '/queue/flush', { host: own, origin: `http://${own}`, 'sec-fetch-site': 'same-origin' })).status, 200);
    assert.equal((await send(openPort, 'POST', '/queue/flush', { host: own, 'sec-fetch-site': 'none' })).status, 200);
    const json = await send(openPort, 'POST', '/chaos/rules', { host: own, 'content-type': 'application/json' }, JSON.stringify({ stage: 'rcpt', reply: { code: 451 } }));
    assert.equal(json.status, 404, 'JSON reaches the routes (this app has no chaos)');
    assert.equal(open.flushes, 2);
  });

  it('asks for MXLAB_ADMIN_TOKEN when set (not for /healthz), and npm run queue sends it', async () => {
    const host = `127.85.0.21:${lockedPort}`;
    assert.equal((await send(lockedPort, 'GET', '/healthz', { host })).status, 200);
    assert.equal((await send(lockedPort, 'GET', '/queue', { host })).status, 401);
    assert.equal((await send(lockedPort, 'POST', '/queue/flush', { host, authorization: 'Bearer wrong-token-0123456789' })).status, 401);
    assert.equal((await send(lockedPort, 'POST', '/queue/flush', { host, authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal(locked.flushes, 1);

    const run = promisify(execFile);
    const env = { ...process.env, MTA_ADMIN_URL: `http://${host}` };
    const ok = await run(process.execPath, [CLI, 'flush'], { env: { ...env, MXLAB_ADMIN_TOKEN: TOKEN }, timeout: 20_000 });
    assert.match(ok.stdout, /^flushed 0 messages/u);
    assert.equal(locked.flushes, 2);
    await assert.rejects(run(process.execPath, [CLI, 'flush'], { env: { ...env, MXLAB_ADMIN_TOKEN: '' }, timeout: 20_000 }), /needs its token/u);
    assert.equal(locked.flushes, 2);
  });
});
