import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import dnsPacket from 'dns-packet';
import { createLogger } from '../../../shared/log.ts';
import { startDnsServer, type DnsServer } from '../../dns/server.ts';
import { createLabResolver, type DnsError } from './dns-client.ts';

const ZONE = `$ORIGIN ttl.test.
$TTL 300
@     IN SOA ns.ttl.test. hostmaster.ttl.test. ( 1 3600 600 86400 45 )
      IN NS  ns.ttl.test.
      IN MX  10 mx1.ttl.test.
      IN MX  20 mx2.ttl.test.
ns    IN A   172.28.0.2
mx1 37 IN A  172.28.0.30
mx1 37 IN A  172.28.0.31
mx2   IN A   172.28.0.32
null  IN MX  0 .
`;

const failure = (promise: Promise<unknown>) => promise.then(() => assert.fail('expected a DNS error'), (error: unknown) => error as DnsError);

describe('the MTA DNS client (dns-packet) against the lab DNS server', () => {
  let dir: string;
  let server: DnsServer;
  let address: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mxlab-dnsclient-'));
    await writeFile(join(dir, 'ttl.test.zone'), ZONE);
    server = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: dir, addressMode: 'compose', logger: createLogger('dns') });
    address = `127.0.0.1:${server.udp[0]?.port}`;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the TTL of MX and A answers as the zone gives them', async () => {
    const resolver = createLabResolver(address, 1000);
    const mx = await resolver.resolveMx('ttl.test');
    assert.deepEqual(
      mx.sort((a, b) => a.priority - b.priority),
      [
        { exchange: 'mx1.ttl.test', priority: 10, ttl: 300 },
        { exchange: 'mx2.ttl.test', priority: 20, ttl: 300 },
      ],
    );
    const a = await resolver.resolve4('mx1.ttl.test', { ttl: true });
    assert.deepEqual(a.map((record) => record.address).sort(), ['172.28.0.30', '172.28.0.31']);
    assert.deepEqual(a.map((record) => record.ttl), [37, 37]);
  });

  it('reads a null MX as the empty exchange', async () => {
    const resolver = createLabResolver(address, 1000);
    assert.deepEqual(await resolver.resolveMx('null.ttl.test'), [{ exchange: '', priority: 0, ttl: 300 }]);
  });

  it('gives NXDOMAIN and NODATA with the negative TTL of the SOA (RFC 2308 §5), refused outside the zones', async () => {
    const resolver = createLabResolver(address, 1000);
    const nxdomain = await failure(resolver.resolveMx('gone.ttl.test'));
    assert.equal(nxdomain.code, 'ENOTFOUND');
    assert.equal(nxdomain.negativeTtl, 45);
    const nodata = await failure(resolver.resolve6('mx1.ttl.test', { ttl: true }));
    assert.equal(nodata.code, 'ENODATA');
    assert.equal(nodata.negativeTtl, 45);
    assert.equal((await failure(resolver.resolveMx('example.com'))).code, 'EREFUSED');
  });

  it('times out with ETIMEOUT when nothing answers', async () => {
    const silent = createSocket('udp4');
    await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
    try {
      const resolver = createLabResolver(`127.0.0.1:${silent.address().port}`, 100);
      assert.equal((await failure(resolver.resolveMx('ttl.test'))).code, 'ETIMEOUT');
    } finally {
      silent.close();
    }
  });

  it('asks again over TCP when the UDP answer is truncated', async () => {
    // UDP says "truncated" with no answers; only TCP has the records.
    const udp = createSocket('udp4');
    udp.on('message', (buffer, peer) => {
      const query = dnsPacket.decode(buffer);
      udp.send(dnsPacket.encode({ type: 'response', id: query.id ?? 0, flags: dnsPacket.TRUNCATED_RESPONSE, questions: query.questions ?? [] }), peer.port, peer.address);
    });
    const tcp = net.createServer((socket) => {
      socket.once('data', (chunk: Buffer) => {
        const query = dnsPacket.decode(chunk.subarray(2));
        const answers: dnsPacket.Answer[] = Array.from({ length: 40 }, (_, i) => ({ type: 'A', name: 'big.test', ttl: 42, data: `10.0.0.${i + 1}` }));
        socket.end(dnsPacket.streamEncode({ type: 'response', id: query.id ?? 0, flags: 0, questions: query.questions ?? [], answers }));
      });
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as net.AddressInfo).port;
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, '127.0.0.1', resolve);
    });
    try {
      const answers = await createLabResolver({ host: '127.0.0.1', port }, 1000).resolve4('big.test', { ttl: true });
      assert.equal(answers.length, 40);
      assert.equal(answers[39]?.address, '10.0.0.40');
      assert.equal(answers[0]?.ttl, 42);
    } finally {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });
});
