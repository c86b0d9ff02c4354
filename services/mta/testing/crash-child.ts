/**
 * Child process of the queue crash test: runs a spool and a delivery runner whose MDA is
 * unreachable (so deferral state is being written too), enqueues `count` messages a few
 * at a time, and prints `ok <n> <queueId>` once each enqueue has resolved. The test
 * kills it with SIGKILL in the middle of the burst.
 * Usage: node crash-child.ts <spoolDir> <closedLmtpPort> <count>
 */
import { createHash } from 'node:crypto';
import { createLogger } from '../../../shared/log.ts';
import { deliveryConfigSchema } from '../delivery/config.ts';
import { startDelivery } from '../delivery/runner.ts';
import { scriptedResolver } from './scripted-resolver.ts';
import { Spool } from '../queue/spool.ts';

const IN_FLIGHT = 8;

export function crashMessage(n: number): Buffer {
  const body = `message ${n}\r\n${'x'.repeat(1000 + (n % 50) * 37)}\r\n`;
  const digest = createHash('sha256').update(body).digest('hex');
  return Buffer.from(
    `From: alice@alpha.test\r\nTo: bob@alpha.test\r\nSubject: crash ${n}\r\nMessage-ID: <crash-${n}@alpha.test>\r\nX-Body-SHA256: ${digest}\r\n\r\n${body}`,
  );
}

async function main(): Promise<void> {
  const [dir, lmtpPort, countText] = process.argv.slice(2);
  if (dir === undefined || lmtpPort === undefined || countText === undefined) throw new Error('usage: crash-child.ts <dir> <port> <count>');
  const logger = createLogger('crash-child', 'silent');
  const queue = await Spool.open({ dir, logger });
  startDelivery({
    queue,
    config: deliveryConfigSchema.parse({ MTA_CONNECT_TIMEOUT_MS: '500' }),
    resolver: scriptedResolver({}),
    hostname: 'mx.alpha.test',
    localDomains: ['alpha.test'],
    relayDomains: [],
    lmtp: { host: '127.0.0.1', port: Number(lmtpPort) },
    logger,
  });
  const count = Number(countText);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < count) {
      const n = next;
      next += 1;
      const { queueId } = await queue.enqueue({
        mailFrom: 'alice@alpha.test',
        rcptTo: ['bob@alpha.test'],
        message: crashMessage(n),
        messageId: `<crash-${n}@alpha.test>`,
        source: 'submission',
        clientAddress: '127.0.0.1',
      });
      process.stdout.write(`ok ${n} ${queueId}\n`);
    }
  }
  process.stdout.write('ready\n');
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  process.stdout.write('done\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
