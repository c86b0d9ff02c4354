/**
 * Isolation (issue 17, item 3): two labs started at the same moment, as two test files
 * would, each on a /24 and host ports of its own; mail sent in one never shows in the
 * other; neither takes the repository lab's subnet or its fixed host ports, so a
 * developer's `docker compose up` keeps working beside them. Then the rest of the API on
 * one of them: a user added, a fault rule, logs, reset timing. Needs Docker and the image.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOST_ENDPOINTS } from '../../../shared/lab.ts';
import { MailLab } from '../src/mail-lab.ts';
import type { StartedMailLab } from '../src/started-mail-lab.ts';

// This machine kind has no registry for testcontainers' Ryuk image; every lab here is stopped by its test.
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';

const FIXED_PORTS = new Set<number>(Object.values(HOST_ENDPOINTS).map((endpoint) => endpoint.port));
const unique = (what: string) => `${what} ${randomBytes(4).toString('hex')}`;

function hostPorts(lab: StartedMailLab): number[] {
  return Object.values(lab.endpoints).flatMap((byProtocol) => Object.values(byProtocol).map((endpoint) => endpoint.port));
}

describe('two labs at once', () => {
  let one: StartedMailLab;
  let two: StartedMailLab;

  before(async () => {
    const [first, second] = await Promise.allSettled([new MailLab().start(), new MailLab().withWebmail().start()]);
    if (first.status === 'fulfilled') one = first.value;
    if (second.status === 'fulfilled') two = second.value;
    if (first.status === 'rejected') throw first.reason;
    if (second.status === 'rejected') throw second.reason;
    process.stderr.write(`two labs: ${one.project} on ${one.subnet} in ${one.startupMs} ms, ${two.project} on ${two.subnet} in ${two.startupMs} ms\n`);
  });

  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
  });

  it('gives each its own project, /24 and host ports, none of the repository lab', () => {
    assert.notEqual(one.project, two.project);
    assert.notEqual(one.subnet, two.subnet);
    for (const lab of [one, two]) assert.notEqual(lab.subnet, '172.28.0.0/24');
    const portsOne = hostPorts(one);
    const portsTwo = hostPorts(two);
    assert.equal(portsOne.filter((port) => portsTwo.includes(port)).length, 0, 'no host port shared');
    for (const port of [...portsOne, ...portsTwo]) assert.ok(!FIXED_PORTS.has(port), `host port ${port} is one of compose.yaml's`);
  });

  it('runs the web mail only where asked for', async () => {
    const { host, port } = two.endpoints.mua.http ?? assert.fail('lab two has no web mail endpoint');
    const page = await fetch(`http://${host}:${port}/`, { redirect: 'manual' });
    assert.ok(page.status >= 200 && page.status < 400, `GET / answered ${page.status}`);
    assert.equal(one.endpoints.mua.http, undefined);
    await assert.rejects(one.logs('mua'), /this lab runs no mua \(withWebmail\(\) adds it\)/u);
  });

  it('delivers in each lab only what was sent in it', async () => {
    const [subjectOne, subjectTwo] = [unique('one'), unique('two')];
    await Promise.all([
      one.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: subjectOne, text: 'in lab one' }),
      two.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject: subjectTwo, text: 'in lab two' }),
    ]);
    await Promise.all([
      one.waitForMessage({ mailbox: 'bob@beta.test', where: { subject: subjectOne } }),
      two.waitForMessage({ mailbox: 'bob@beta.test', where: { subject: subjectTwo } }),
    ]);
    assert.deepEqual((await one.messages('bob@beta.test')).map((m) => m.parsed.subject), [subjectOne]);
    assert.deepEqual((await two.messages('bob@beta.test')).map((m) => m.parsed.subject), [subjectTwo]);
  });

  it('adds a user who can log in, send and receive', async () => {
    await one.addUser('dave@beta.test', 'dave-password');
    const subject = unique('to dave');
    await one.sendMail({ from: 'alice@alpha.test', to: 'dave@beta.test', subject, text: 'hello dave' });
    const message = await one.waitForMessage({ mailbox: 'dave@beta.test', where: { subject } });
    assert.equal(message.mailbox, 'dave@beta.test');
    const reply = await one.sendMail({ from: 'dave@beta.test', to: 'alice@alpha.test', subject: `Re: ${subject}`, text: 'hi' });
    assert.match(reply.response, /^250 /u);
  });

  it('applies a fault rule: a 451 at beta-mx1 sends the message to the backup MX', async () => {
    const rule = await one.chaos('beta-mx1').add({ id: 'defer-bob', stage: 'rcpt', match: { rcpt: 'bob@beta.test' }, reply: { code: 451, enhanced: '4.3.0', text: 'try later' } });
    assert.equal(rule.id, 'defer-bob');
    const subject = unique('deferred');
    await one.sendMail({ from: 'alice@alpha.test', to: 'bob@beta.test', subject, text: 'x' });
    const held = await one.waitForQueue('beta-mx2');
    assert.equal(held.recipients[0]?.recipient, 'bob@beta.test');
    const fired = (await one.chaos('beta-mx1').rules()).find((entry) => entry.id === 'defer-bob');
    assert.ok(Number(fired?.fired) >= 1, `the rule fired: ${JSON.stringify(fired)}`);
  });

  it('resets both mailboxes and queues and the fault plan in under a second', async () => {
    await two.reset(); // the first login of each user of lab two
    const timed = await one.reset();
    assert.equal((await one.messages('bob@beta.test')).length, 0);
    assert.equal((await one.queue('beta-mx2')).length, 0);
    assert.deepEqual(await one.chaos('beta-mx1').rules(), []);
    const again = await one.reset();
    process.stderr.write(`reset: ${timed.ms} ms (${timed.messages} messages, ${timed.queued} queued; ${JSON.stringify(timed.phases)}), then ${again.ms} ms\n`);
    assert.ok(again.ms < 1000, `reset took ${again.ms} ms`);
  });

  it('shows each agent its log, and names the log folder when a wait fails', async () => {
    assert.match(await one.logs('beta-mx1'), /"msg":"MTA started"/u);
    await assert.rejects(
      one.waitForMessage({ mailbox: 'carol@beta.test', where: { subject: 'never sent' }, timeoutMs: 500 }),
      (error: Error) => error.message.includes('carol@beta.test') && error.message.includes(one.logDir),
    );
    assert.ok(existsSync(join(one.logDir, 'beta-mx1.log')));
    rmSync(one.logDir, { recursive: true, force: true });
  });
});
