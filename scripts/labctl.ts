/**
 * `npm run lab -- status | stop <agent> | start <agent>`: talks to a running no-Docker
 * lab through its control socket (`.lab/control.sock`, or MXLAB_STATE_DIR's).
 */
import http from 'node:http';
import { join, resolve } from 'node:path';

const stateDir = resolve(process.env.MXLAB_STATE_DIR ?? join(import.meta.dirname, '..', '.lab'));

function call(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolveCall, reject) => {
    const request = http.request({ socketPath: join(stateDir, 'control.sock'), method, path }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => resolveCall({ status: response.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    request.on('error', reject);
    request.end();
  });
}

async function main([command, agent]: string[]): Promise<number> {
  try {
    if (command === 'status' || command === undefined) {
      const { body } = await call('GET', '/agents');
      for (const item of body as { name: string; address: string; running: boolean; pid?: number }[]) {
        process.stdout.write(`${item.name.padEnd(10)} ${item.address.padEnd(14)} ${item.running ? `running (pid ${item.pid})` : 'stopped'}\n`);
      }
      return 0;
    }
    if ((command === 'stop' || command === 'start') && agent) {
      const { status, body } = await call('POST', `/agents/${encodeURIComponent(agent)}/${command}`);
      if (status !== 200) {
        process.stderr.write(`lab: ${(body as { error: string }).error}\n`);
        return 1;
      }
      process.stdout.write(`${agent} ${command === 'stop' ? 'stopped' : 'running'}\n`);
      return 0;
    }
  } catch (error) {
    process.stderr.write(`lab: no running lab answers at ${join(stateDir, 'control.sock')} (${(error as Error).message}); start it with npm start\n`);
    return 1;
  }
  process.stderr.write('usage: npm run lab -- status | stop <agent> | start <agent>\n');
  return 2;
}

process.exitCode = await main(process.argv.slice(2));
