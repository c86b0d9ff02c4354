/**
 * The caller's DNS faults (issue 16, Build 3: "applied where our code asks DNS, each MTA's
 * and the caller's resolver"), over the real lab DNS server: a plan loaded at start from
 * CALLER_CHAOS_PLAN (its `caller` entry of docs/chaos/dns-faults-plan.json), rules set and cleared over HTTP and
 * with `npm run chaos -- --url …`, each fault seen in the spam rules' verdict; `GET /dns`
 * shows them with their counts; a rule for another stage or a bad plan is refused with 400
 * naming the field, and changes nothing; the endpoints refuse other Host names and
 * cross-site requests; a bad plan file stops the start.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { checkPlan } from '../../shared/chaos/rules.ts';
import { encodeScanRequest, scanVerdictSchema, type ScanVerdict } from '../../shared/caller-api.ts';
import { createLogger } from '../../shared/log.ts';
import { startDnsServer, type DnsServer } from '../dns/server.ts';
import { loadCallerConfig } from './config.ts';
import { startCaller, type RunningCaller } from './server.ts';
import { message, scanRequest } from './testing/messages.ts';

const ZONES_DIR = fileURLToPath(new URL('../dns/zones/', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const CHAOS_CLI = fileURLToPath(new URL('../mta/chaos-cli.ts', import.meta.url));

/** A lab plan with an entry for alpha-mta and one for the caller, which takes its own. */
const DNS_PLAN = fileURLToPath(new URL('../../docs/chaos/dns-faults-plan.json', import.meta.url));

interface RuleView {
  id: string;
  stage: string;
  fired: number;
}

describe('the caller\'s DNS faults', () => {
  let dir: string;
  let dns: DnsServer;
  let caller: RunningCaller;
  let base: string;
  let dnsServer: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-caller-chaos-'));
    dns = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: ZONES_DIR, addressMode: 'loopback', logger: createLogger('dns') });
    dnsServer = `127.0.0.1:${dns.udp[0]?.port}`;
    caller = await startCaller(loadCallerConfig({ CALLER_LISTEN: '127.0.0.1:0', CALLER_DNS_SERVER: dnsServer, CALLER_CHAOS_PLAN: DNS_PLAN }));
    base = `http://127.0.0.1:${caller.http[0]?.port}`;
  });
  after(async () => {
    await caller?.close();
    await dns?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function scan(): Promise<ScanVerdict> {
    const response = await fetch(`${base}/v1/scan`, {
      method: 'POST',
      headers: { 'content-type': 'message/rfc822', 'x-mxlab-scan': encodeScanRequest(scanRequest()) },
      body: message('Hello Bob'),
    });
    assert.equal(response.status, 200);
    return scanVerdictSchema.parse(await response.json());
  }
  const tests = (verdict: ScanVerdict) => verdict.engines.flatMap((result) => result.rules.map((rule) => rule.name));
  const detail = (verdict: ScanVerdict) => verdict.engines.map((result) => result.detail ?? '').join('; ');
  async function json<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
    const response = await fetch(`${base}${path}`, { ...init, headers: { 'content-type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });
    return { status: response.status, body: (await response.json()) as T };
  }
  const chaosCli = (...args: string[]) => promisify(execFile)(process.execPath, [CHAOS_CLI, '--url', base, ...args], { timeout: 20_000 });

  it('loads its entry of a lab plan at start: alpha.test has no records, so SENDER_NO_MX_A hits; GET /dns shows the fault fired', async () => {
    const file = JSON.parse(await readFile(DNS_PLAN, 'utf8')) as { mtas: Record<string, { rules: unknown[] }> };
    for (const [name, plan] of Object.entries(file.mtas)) assert.ok(checkPlan(plan, { now: Date.now(), nextId: () => 'x' }).ok, `${name}'s entry of the example`);
    const rules = (await json<{ rules: RuleView[] }>('/chaos/rules')).body.rules;
    assert.deepEqual(rules.map((rule) => rule.id), ['alpha-gone']);
    const verdict = await scan();
    assert.ok(tests(verdict).includes('SENDER_NO_MX_A'), JSON.stringify(verdict.engines));
    assert.ok(!tests(verdict).includes('SPF_PASS'), 'no TXT record either: SPF has nothing to pass');
    const view = (await json<{ faults: RuleView[] }>('/dns')).body;
    assert.equal(view.faults[0]?.id, 'alpha-gone');
    assert.ok((view.faults[0]?.fired ?? 0) >= 1);
  });

  it('answers normally once the rule is removed, from the lab DNS, whose answers GET /dns lists', async () => {
    assert.equal((await json('/chaos/rules/alpha-gone', { method: 'DELETE' })).status, 200);
    assert.deepEqual(tests(await scan()), ['SPF_PASS']);
    const view = (await json<{ entries: { name: string; type: string; answers: string[]; secondsLeft: number }[] }>('/dns')).body;
    const mx = view.entries.find((entry) => entry.name === 'alpha.test' && entry.type === 'MX');
    assert.deepEqual(mx?.answers, ['mx.alpha.test']);
    assert.ok((mx?.secondsLeft ?? 0) > 0 && (mx?.secondsLeft ?? 0) <= 30, JSON.stringify(mx));
    assert.ok(view.entries.some((entry) => entry.name === 'alpha.test' && entry.type === 'TXT'), 'the SPF record\'s lookup');
  });

  it('SERVFAIL for alpha.test TXT (npm run chaos -- set): SPF is a temperror, not a pass', async () => {
    await chaosCli('set', JSON.stringify({ id: 'txt-fail', stage: 'dns', match: { name: 'alpha.test', type: 'TXT' }, fault: 'servfail' }));
    const verdict = await scan();
    assert.ok(!tests(verdict).includes('SPF_PASS'));
    assert.match(detail(verdict), /spf=temperror .*ESERVFAIL \(chaos rule txt-fail\)/u);
    const listed = await chaosCli('list');
    assert.match(listed.stdout, /^txt-fail\s+dns\s+fired\s+1 of\s+1/mu);
    await chaosCli('clear', 'txt-fail');
    assert.deepEqual(tests(await scan()), ['SPF_PASS']);
  });

  it('a replaced A answer for mx.alpha.test makes the lab MX\'s own address fail SPF ("v=spf1 mx -all")', async () => {
    const added = await json<RuleView>('/chaos/rules', { method: 'POST', body: JSON.stringify({ id: 'mx-moved', stage: 'dns', match: { name: 'mx.alpha.test', type: 'A' }, fault: 'replace', answer: ['192.0.2.25'] }) });
    assert.equal(added.status, 201);
    assert.ok(tests(await scan()).includes('SPF_FAIL'));
    assert.equal((await json('/chaos/rules', { method: 'DELETE' })).status, 200);
    assert.deepEqual(tests(await scan()), ['SPF_PASS']);
  });

  it('refuses a rule for another stage, a bad plan and a TXT replacement with 400 naming the field, and changes nothing', async () => {
    await chaosCli('set', JSON.stringify({ id: 'keep', stage: 'dns', match: { name: 'nothing.test' }, fault: 'empty' }));
    const smtp = await json<{ error: string }>('/chaos/rules', { method: 'POST', body: JSON.stringify({ stage: 'rcpt', reply: { code: 451 } }) });
    assert.equal(smtp.status, 400);
    assert.match(smtp.body.error, /stage: the caller takes dns rules only, not rcpt/u);
    const plan = await json<{ error: string }>('/chaos/rules', { method: 'PUT', body: JSON.stringify({ rules: [{ stage: 'dns', match: { name: 'a.test' }, fault: 'empty' }, { stage: 'mail', reply: { code: 421 } }] }) });
    assert.equal(plan.status, 400);
    assert.match(plan.body.error, /rules\.1\.stage: the caller takes dns rules only/u);
    const txt = await json<{ error: string }>('/chaos/rules', { method: 'POST', body: JSON.stringify({ stage: 'dns', match: { name: 'alpha.test', type: 'TXT' }, fault: 'replace', answer: ['192.0.2.1'] }) });
    assert.equal(txt.status, 400);
    assert.match(txt.body.error, /match\.type: a TXT answer cannot be replaced/u);
    const notJson = await fetch(`${base}/chaos/rules`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"stage":' });
    assert.equal(notJson.status, 400);
    assert.deepEqual((await json<{ rules: RuleView[] }>('/chaos/rules')).body.rules.map((rule) => rule.id), ['keep']);
    await assert.rejects(chaosCli('load', join(dir, 'bad-plan.json')));
    await writeFile(join(dir, 'bad-plan.json'), JSON.stringify({ mtas: { caller: { rules: [{ stage: 'helo', reply: { code: 421 } }] } } }));
    await assert.rejects(chaosCli('load', join(dir, 'bad-plan.json')), (error: { stderr?: string }) => /mtas\.caller\.rules\.0\.stage: the caller takes dns rules only/u.test(error.stderr ?? ''));
    assert.deepEqual((await json<{ rules: RuleView[] }>('/chaos/rules')).body.rules.map((rule) => rule.id), ['keep']);
  });

  it('answers only its own names and no web page (Host, Origin), as the MTAs\' admin endpoints', async () => {
    // fetch sends its own Host; node:http sends the one given, as a rebound DNS name would.
    const withHost = (host: string) => new Promise<number>((resolve, reject) => {
      request(`${base}/chaos/rules`, { headers: { host } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on('error', reject).end();
    });
    assert.equal(await withHost('evil.example'), 403);
    assert.equal(await withHost('caller:8025'), 200);
    assert.equal((await fetch(`${base}/dns`, { headers: { origin: 'http://evil.example' } })).status, 403);
    assert.equal((await fetch(`${base}/chaos/rules`, { method: 'DELETE', headers: { 'sec-fetch-site': 'cross-site' } })).status, 403);
  });

  it('takes the DNS rules of a plan every agent shares ({"rules": [...]}) and leaves the others to the MTAs', async () => {
    await writeFile(join(dir, 'shared-plan.json'), JSON.stringify({ rules: [{ id: 'rcpt-451', stage: 'rcpt', reply: { code: 451 } }, { id: 'no-mx', stage: 'dns', match: { name: 'nothing.test' }, fault: 'empty' }] }));
    const shared = await startCaller(loadCallerConfig({ CALLER_LISTEN: '127.0.0.1:0', CALLER_DNS_SERVER: dnsServer, CALLER_CHAOS_PLAN: join(dir, 'shared-plan.json') }));
    try {
      assert.deepEqual(shared.chaos.list().map((rule) => rule.id), ['no-mx']);
    } finally {
      await shared.close();
    }
  });

  it('does not start when its own entry of a lab plan holds a rule of another stage, and names the field', async () => {
    await writeFile(join(dir, 'smtp-plan.json'), JSON.stringify({ mtas: { caller: { rules: [{ stage: 'connect', reply: { code: 421 } }] } } }));
    await assert.rejects(
      promisify(execFile)(process.execPath, [MAIN], { env: { ...process.env, CALLER_LISTEN: '127.0.0.1:0', CALLER_DNS_SERVER: dnsServer, CALLER_CHAOS_PLAN: join(dir, 'smtp-plan.json') }, timeout: 15_000 }),
      (error: { code?: number; stderr?: string }) => error.code !== 0 && /CALLER_CHAOS_PLAN .*rules\.0\.stage: the caller takes dns rules only/u.test(error.stderr ?? ''),
    );
  });
});
