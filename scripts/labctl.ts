/**
 * `npm run lab -- status | stop <agent> | start <agent> | kill <agent>`: talks to a running
 * no-Docker lab through its control socket (`.lab/control.sock`, or MXLAB_STATE_DIR's).
 * `stop` is deliberate (the agent stays down, like `docker compose stop`); `kill` is
 * SIGKILL, a crash the launcher answers by restarting the agent (like `docker kill` of a
 * container with `restart: unless-stopped`).
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

interface AgentStatus {
  name: string;
  address: string;
  state: 'running' | 'starting' | 'stopped' | 'restarting';
  pid?: number;
  restarts: number;
  lastExit?: { code: number | null; signal: string | null; at: string };
}

/** `beta-mx1   127.28.0.20    running (pid 123)  restarts 1, last exit SIGKILL at …` */
export function statusLine(item: AgentStatus): string {
  const state = item.state === 'running' || item.state === 'starting' ? `${item.state} (pid ${item.pid})` : item.state;
  const exit = item.lastExit ? `, last exit ${item.lastExit.signal ?? `code ${item.lastExit.code}`} at ${item.lastExit.at}` : '';
  return `${item.name.padEnd(10)} ${item.address.padEnd(14)} ${state.padEnd(20)} restarts ${item.restarts}${exit}`;
}

async function main([command, agent]: string[]): Promise<number> {
  try {
    if (command === 'status' || command === undefined) {
      const { body } = await call('GET', '/agents');
      for (const item of body as AgentStatus[]) process.stdout.write(`${statusLine(item)}\n`);
      return 0;
    }
    if ((command === 'stop' || command === 'start' || command === 'kill') && agent) {
      const { status, body } = await call('POST', `/agents/${encodeURIComponent(agent)}/${command}`);
      if (status !== 200) {
        process.stderr.write(`lab: ${(body as { error: string }).error}\n`);
        return 1;
      }
      process.stdout.write(`${agent} ${command === 'stop' ? 'stopped' : command === 'kill' ? 'killed (the lab restarts it)' : 'running'}\n`);
      return 0;
    }
  } catch (error) {
    process.stderr.write(`lab: no running lab answers at ${join(stateDir, 'control.sock')} (${(error as Error).message}); start it with npm start\n`);
    return 1;
  }
  process.stderr.write('usage: npm run lab -- status | stop <agent> | start <agent> | kill <agent>\n');
  return 2;
}

if (import.meta.main) process.exitCode = await main(process.argv.slice(2));
