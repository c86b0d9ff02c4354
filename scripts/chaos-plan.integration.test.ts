/**
 * A fault plan for the whole lab from the start (issue 16: "a plan can be loaded at start
 * from a file"): `MXLAB_CHAOS_PLAN=docs/chaos/dns-faults-plan.json npm start`, its own
 * loopback network 127.47. alpha-mta gets SERVFAIL for beta.test MX, so alice's mail waits in
 * its queue with 451 4.4.3 (GET /dns shows the fault); once that rule is cleared the mail
 * goes on, and the caller, told by the same file that alpha.test has no records, scores it
 * SENDER_NO_MX_A at beta-mx1. The other MTAs hold no rules. Real clients: swaks, curl, the
 * chaos and queue CLIs.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AGENT_ADDRESSES, SERVICE_PORTS, toLoopback, type AgentName } from '../shared/lab.ts';
import { runProcess } from '../shared/testing/processes.ts';
import { startLabProcess, type LabProcess } from './lab-process.ts';

const NET = '127.47';
const root = join(import.meta.dirname, '..');
let lab: LabProcess;

async function run(command: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const result = await runProcess(command, args, { timeoutMs, env: lab.env });
  return { code: result.code, stdout: result.stdout.toString(), stderr: result.stderr };
}

async function until<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

const cli = (script: 'chaos' | 'queue', ...args: string[]) => run(process.execPath, [join(root, 'services', 'mta', script === 'chaos' ? 'chaos-cli.ts' : 'cli.ts'), ...args]);
const url = (agent: AgentName, port: number, path: string) => `http://${toLoopback(AGENT_ADDRESSES[agent], NET)}:${port}${path}`;

describe('MXLAB_CHAOS_PLAN: one fault plan file for the lab, loaded at start (127.47)', () => {
  before(async () => {
    lab = await startLabProcess({ loopbackNet: NET, env: { MXLAB_CHAOS_PLAN: join(root, 'docs', 'chaos', 'dns-faults-plan.json') } });
  });
  after(async () => {
    await lab?.stop();
  });

  it('gives alpha-mta and the caller their entries, and the other MTAs nothing', async () => {
    const listed = await cli('chaos', '--mta', 'alpha-mta', 'list');
    assert.match(listed.stdout, /^beta-mx-servfail\s+dns\s/mu, `${listed.stderr}\nlab output:\n${lab.output().slice(-3000)}`);
    assert.match((await cli('chaos', '--mta', 'caller', 'list')).stdout, /^alpha-gone\s+dns\s/mu);
    for (const mta of ['beta-mx1', 'beta-mx2']) assert.equal((await cli('chaos', '--mta', mta, 'list')).stdout, 'no chaos rules\n', mta);
  });

  it('keeps alice\'s mail in alpha-mta\'s queue on SERVFAIL, then the caller scores the unknown sender domain', async (t) => {
    const sent = await run('swaks', ['--server', `127.0.0.1:${lab.env.MXLAB_ALPHA_SUBMISSION_PORT}`, '--tls', '--auth-user', 'alice@alpha.test',
      '--auth-password', 'secret', '--from', 'alice@alpha.test', '--to', 'bob@beta.test', '--header', 'Subject: dns faults plan']);
    assert.equal(sent.code, 0, sent.stdout);
    const waiting = await until('bob deferred on alpha-mta', async () => {
      const list = (await cli('queue', '--mta', 'alpha-mta', 'list')).stdout;
      return /bob@beta\.test\s+deferred\s+attempts [1-9]/u.test(list) ? list : undefined;
    });
    assert.match(waiting, /\(451 4\.4\.3 DNS lookup of beta\.test MX failed \(ESERVFAIL\)/u);
    t.diagnostic(`alpha-mta's queue: ${waiting.split('\n').filter((line) => /bob@beta|\(451/u.test(line)).map((line) => line.trim()).join(' ')}`);
    const dns = await run('curl', ['-s', url('alpha-mta', SERVICE_PORTS.mtaAdmin, '/dns')]);
    const view = JSON.parse(dns.stdout) as { faults: { id: string; fired: number }[] };
    assert.equal(view.faults[0]?.id, 'beta-mx-servfail');
    assert.ok((view.faults[0]?.fired ?? 0) >= 1);

    assert.equal((await cli('chaos', '--mta', 'alpha-mta', 'clear', 'beta-mx-servfail')).code, 0);
    assert.equal((await cli('queue', '--mta', 'alpha-mta', 'flush')).code, 0);
    const imap = `imap://127.0.0.1:${lab.env.MXLAB_BETA_IMAP_PORT}`;
    const uid = await until('the message in bob\'s INBOX', async () => {
      const found = await run('curl', ['-s', `${imap}/INBOX`, '--user', 'bob@beta.test:secret', '-X', 'UID SEARCH SUBJECT "dns faults plan"']);
      return /^\* SEARCH (\d+)/mu.exec(found.stdout)?.[1];
    });
    const headers = await run('curl', ['-s', `${imap}/INBOX;UID=${uid};SECTION=HEADER`, '--user', 'bob@beta.test:secret']);
    assert.match(headers.stdout, /^X-Spam-Status: .*SENDER_NO_MX_A/mu, headers.stdout);
    t.diagnostic(`bob's message: ${/^X-Spam-Status: .*$/mu.exec(headers.stdout)?.[0] ?? ''}`);
    const callerDns = JSON.parse((await run('curl', ['-s', url('caller', SERVICE_PORTS.caller, '/dns')])).stdout) as { faults: { id: string; fired: number }[] };
    assert.ok((callerDns.faults.find((fault) => fault.id === 'alpha-gone')?.fired ?? 0) >= 1, JSON.stringify(callerDns));
  });
});
