import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { EXIT_WITH_PARENT_VARIABLE } from './agent.ts';
import { freePort } from './free-port.ts';

const root = join(import.meta.dirname, '..');

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('agent lifecycle', () => {
  it('an agent started by the launcher stops cleanly when the launcher’s pipe closes', async () => {
    const port = await freePort();
    const env = { PATH: process.env.PATH ?? '', LOG_LEVEL: 'silent', DNS_LISTEN: `127.0.0.1:${port}`, [EXIT_WITH_PARENT_VARIABLE]: '1' };
    const child = spawn(process.execPath, [join(root, 'services', 'dns', 'main.ts')], { env, stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      const deadline = Date.now() + 30_000;
      while (!(await connects(port))) {
        assert.ok(Date.now() < deadline && child.exitCode === null, `the DNS agent did not start: ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(child.exitCode, null, 'still running while the pipe is open');
      child.stdin.end();
      const [code] = (await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve(['timeout']), 15_000))])) as [unknown];
      assert.equal(code, 0, `exit after the pipe closed: ${stderr}`);
      assert.match(stderr, /launcher gone, stopping/u);
      assert.equal(await connects(port), false, 'its port is free again');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
