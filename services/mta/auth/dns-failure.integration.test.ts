/**
 * A DNS server that never answers (a UDP socket that reads and drops every query): the MX
 * port's checks end in temperror and the client gets 451 4.4.3, never a 250 and never a
 * pass. Over real sockets: smtplib-like nodemailer against the MTA's MX listener.
 */
import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import nodemailer from 'nodemailer';
import { startMta, type MtaHandle } from '../server.ts';
import { createTestLab, MemoryQueue, type TestLab } from '../testing/smtp.ts';

describe('MX checks while the DNS does not answer', () => {
  let lab: TestLab;
  let queue: MemoryQueue;
  let mta: MtaHandle;
  let silent: Socket;
  let queries = 0;

  before(async () => {
    silent = createSocket('udp4');
    silent.on('message', () => (queries += 1));
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    const dnsPort = (silent.address() as AddressInfo).port;
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
        MTA_DNS_SERVER: `127.0.0.1:${dnsPort}`,
        MTA_DNS_TIMEOUT_MS: '200',
      }),
      { queue, earlyTalkerWaitMs: 0 },
    );
  });

  after(async () => {
    await mta.close();
    await lab.remove();
    silent.close();
  });

  it('answers 451 4.4.3 with temperror, and queues nothing', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: mta.smtp[0]?.port ?? 0, ignoreTLS: true, name: 'mx.alpha.test' });
    const raw = 'From: Alice <alice@alpha.test>\r\nTo: bob@beta.test\r\nSubject: while DNS is down\r\nDate: Thu, 03 Dec 2026 08:00:00 +0000\r\nMessage-ID: <dns-down@alpha.test>\r\n\r\nhello\r\n';
    await assert.rejects(transport.sendMail({ envelope: { from: 'alice@alpha.test', to: ['bob@beta.test'] }, raw }), (error: { responseCode?: number; response?: string }) => {
      assert.equal(error.responseCode, 451, error.response);
      assert.match(error.response ?? '', /^451 4\.4\.3 Sender authentication could not be checked, try again later: DMARC check of alpha\.test failed temporarily/u);
      return true;
    });
    assert.equal(queue.requests.length, 0);
    assert.ok(queries > 0, 'the MTA asked the (silent) DNS server');
  });
});
