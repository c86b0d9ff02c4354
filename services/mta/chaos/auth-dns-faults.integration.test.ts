/**
 * The fault plan's DNS rules reach the MX checks too (issue 16, Build 3: "applied where our
 * code asks DNS"): over the real lab DNS server, a SERVFAIL rule for alpha.test's TXT
 * records (SPF, DMARC) on beta-mx1 makes its checks temperror, so nodemailer gets 451
 * 4.4.3 and nothing is queued, the rule counting its hits; with the rule gone the same
 * message is judged on the zone's real records again (no temporary failure).
 */
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { ChaosEngine } from '../../../shared/chaos/engine.ts';
import { createLogger } from '../../../shared/log.ts';
import { startDnsServer, type DnsServer } from '../../dns/server.ts';
import { startMta, type MtaHandle } from '../server.ts';
import { createTestLab, MemoryQueue, type TestLab } from '../testing/smtp.ts';

const ZONES_DIR = fileURLToPath(new URL('../../dns/zones/', import.meta.url));
const RAW = 'From: Alice <alice@alpha.test>\r\nTo: bob@beta.test\r\nSubject: TXT faults\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\nMessage-ID: <txt-fault@alpha.test>\r\n\r\nhello\r\n';

describe('DNS faults in front of the MX checks\' resolver', () => {
  let lab: TestLab;
  let dns: DnsServer;
  let queue: MemoryQueue;
  let mta: MtaHandle;
  const chaos = new ChaosEngine();

  before(async () => {
    dns = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: ZONES_DIR, addressMode: 'loopback', logger: createLogger('dns') });
    lab = await createTestLab();
    queue = new MemoryQueue();
    mta = await startMta(
      lab.config({
        MTA_NAME: 'beta-mx1',
        MTA_HOSTNAME: 'mx1.beta.test',
        MTA_LOCAL_DOMAINS: 'beta.test',
        MTA_SUBMISSION_LISTEN: '',
        MTA_SUBMISSIONS_LISTEN: '',
        MTA_AUTH_CHECKS: 'true',
        MTA_DNS_SERVER: `127.0.0.1:${dns.udp[0]?.port}`,
      }),
      { queue, chaos, earlyTalkerWaitMs: 0 },
    );
  });
  after(async () => {
    await mta?.close();
    await lab?.remove();
    await dns?.close();
  });

  const send = () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mta.smtp[0]?.port ?? 0, ignoreTLS: true, name: 'mx.alpha.test' });
    return transport.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test'] }, raw: RAW });
  };
  const replyOf = async (): Promise<string> => {
    try {
      return (await send()).response;
    } catch (error) {
      return (error as { response?: string }).response ?? String(error);
    }
  };

  it('SERVFAIL for *alpha.test TXT: 451 4.4.3 temperror, nothing queued, the rule counts its hits', async () => {
    assert.ok(chaos.add({ id: 'txt-servfail', stage: 'dns', match: { name: '*alpha.test', type: 'TXT' }, fault: 'servfail' }).ok);
    const reply = await replyOf();
    assert.match(reply, /^451 4\.4\.3 /u, reply);
    assert.equal(queue.requests.length, 0);
    assert.ok((chaos.get('txt-servfail')?.fired ?? 0) >= 1);
  });

  it('judges the message on the zone\'s own records again once the rule is removed', async () => {
    assert.ok(chaos.remove('txt-servfail'));
    const reply = await replyOf();
    assert.doesNotMatch(reply, /^4\d\d /u, reply);
  });
});
