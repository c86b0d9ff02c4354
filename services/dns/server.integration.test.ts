import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { Resolver } from 'node:dns/promises';
import net from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { createLogger } from '../../shared/log.ts';
import { startDnsServer, type DnsServer } from './server.ts';

const ZONES_DIR = fileURLToPath(new URL('./zones/', import.meta.url));
const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const execFileAsync = promisify(execFile);

/** Runs a tool, naming the package to install when it is missing. */
async function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeout?: number } = {}): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(command, args, { timeout: 10_000, ...options });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${command} is not installed (dig: apt-get install -y bind9-dnsutils)`, { cause: error });
    throw error;
  }
}

/** Sends length-prefixed queries over one TCP connection and collects the replies. */
async function tcpQueries(port: number, messages: Buffer[]): Promise<DecodedPacket[]> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const frames = messages.map((message) => {
    const prefix = Buffer.alloc(2);
    prefix.writeUInt16BE(message.length);
    return Buffer.concat([prefix, message]);
  });
  // One write, split at an odd place, checks the server's framing.
  const all = Buffer.concat(frames);
  socket.write(all.subarray(0, 5));
  setTimeout(() => socket.write(all.subarray(5)), 20);
  const replies: DecodedPacket[] = [];
  let buffered = Buffer.alloc(0);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('TCP replies timed out')), 5000);
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        replies.push(dnsPacket.decode(buffered.subarray(2, 2 + buffered.readUInt16BE(0))));
        buffered = buffered.subarray(2 + buffered.readUInt16BE(0));
      }
      if (replies.length === messages.length) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.once('error', reject);
  });
  socket.destroy();
  return replies;
}

describe('DNS server over real sockets', () => {
  let server: DnsServer;
  let port: number;
  let resolver: Resolver;

  before(async () => {
    server = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: ZONES_DIR, addressMode: 'loopback', logger: createLogger('dns') });
    port = server.udp[0]?.port ?? 0;
    resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
  });
  after(() => server.close());

  it('binds UDP and TCP on the same port', () => {
    assert.ok(port > 0);
    assert.equal(server.tcp[0]?.port, port);
  });

  it('answers MX, A, SRV and TXT to node\'s resolver', async () => {
    const mx = (await resolver.resolveMx('beta.test')).map(({ priority, exchange }) => ({ priority, exchange }));
    assert.deepEqual(mx.sort((a, b) => a.priority - b.priority), [
      { priority: 10, exchange: 'mx1.beta.test' },
      { priority: 20, exchange: 'mx2.beta.test' },
    ]);
    assert.deepEqual(await resolver.resolve4('mx1.beta.test'), ['127.28.0.20']);
    const srv = (await resolver.resolveSrv('_submission._tcp.alpha.test')).map(({ priority, weight, port, name }) => ({ priority, weight, port, name }));
    assert.deepEqual(srv, [{ priority: 0, weight: 1, port: 587, name: 'smtp.alpha.test' }]);
    assert.deepEqual(await resolver.resolveTxt('beta.test'), [['v=spf1 mx -all']]);
  });

  it('answers NXDOMAIN for unknown lab names and REFUSED outside the lab', async () => {
    await assert.rejects(resolver.resolve4('nobody.alpha.test'), { code: 'ENOTFOUND' });
    await assert.rejects(resolver.resolveMx('example.com'), { code: 'EREFUSED' });
  });

  it('answers several queries on one TCP connection', async () => {
    const queries = ['alpha.test', 'beta.test'].map((name, i) => dnsPacket.encode({ type: 'query', id: 100 + i, questions: [{ type: 'MX', name }] }));
    const replies = await tcpQueries(port, queries);
    assert.deepEqual(replies.map((reply) => reply.id), [100, 101]);
    assert.deepEqual(replies[0]?.answers?.map((answer) => (answer as { data: { exchange: string } }).data.exchange), ['mx.alpha.test']);
    assert.equal(replies[1]?.answers?.length, 2);
  });

  it('answers FORMERR to a garbage datagram', async () => {
    const socket = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((resolve) => socket.once('message', resolve));
    socket.send(Buffer.from('abcdefghijkl\xff\xff\xff', 'latin1'), port, '127.0.0.1');
    const bytes = await reply;
    socket.close();
    assert.equal(bytes.readUInt16BE(0), 0x6162);
    assert.equal(bytes.readUInt16BE(2) & 0x000f, 1);
  });

  it('answers dig over UDP and TCP like CoreDNS would', async () => {
    const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), 'beta.test', 'MX', '+noall', '+answer', '+comments']);
    assert.match(stdout, /status: NOERROR/);
    assert.match(stdout, /flags: qr aa rd;/);
    assert.match(stdout, /beta\.test\.\s+60\s+IN\s+MX\s+10 mx1\.beta\.test\./);
    assert.match(stdout, /beta\.test\.\s+60\s+IN\s+MX\s+20 mx2\.beta\.test\./);
    const tcp = await run('dig', ['+tcp', '@127.0.0.1', '-p', String(port), 'mx2.beta.test', 'A', '+short']);
    assert.equal(tcp.stdout.trim(), '127.28.0.21');
    const nx = await run('dig', ['@127.0.0.1', '-p', String(port), 'nope.beta.test', 'A']);
    assert.match(nx.stdout, /status: NXDOMAIN/);
    assert.match(nx.stdout, /AUTHORITY SECTION:\s+beta\.test\.\s+60\s+IN\s+SOA/);
  });
});

describe('DNS server: answers larger than 512 bytes', () => {
  let dir: string;
  let server: DnsServer;
  let port: number;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mxlab-zones-'));
    const big = Array.from({ length: 30 }, (_, i) => `big TXT "${'x'.repeat(50)}-${i}"`).join('\n');
    await writeFile(path.join(dir, 'large.test.zone'), `$TTL 60\n@ SOA ns hostmaster 1 3600 600 86400 60\n${big}\n`);
    server = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: dir, addressMode: 'compose', logger: createLogger('dns') });
    port = server.udp[0]?.port ?? 0;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('sets TC over UDP, and clients retry over TCP to get every record', async () => {
    const udpOnly = await run('dig', ['@127.0.0.1', '-p', String(port), '+ignore', '+noedns', 'big.large.test', 'TXT']);
    assert.match(udpOnly.stdout, /flags: qr aa tc rd;/);
    const retried = await run('dig', ['@127.0.0.1', '-p', String(port), '+noedns', 'big.large.test', 'TXT', '+short']);
    assert.equal(retried.stdout.trim().split('\n').length, 30);
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${port}`]);
    assert.equal((await resolver.resolveTxt('big.large.test')).length, 30);
  });
});

describe('DNS server: zone edits', () => {
  let dir: string;
  let server: DnsServer;
  let port: number;
  const zone = (address: string) => `$ORIGIN edit.test.\n$TTL 60\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ MX 10 mx\nmx A ${address}\n`;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'mxlab-zones-'));
    await writeFile(path.join(dir, 'edit.test.zone'), zone('172.28.0.50'));
    server = await startDnsServer({ listen: [{ host: '127.0.0.1', port: 0 }], zonesDir: dir, addressMode: 'compose', logger: createLogger('dns') });
    port = server.udp[0]?.port ?? 0;
  });
  after(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  const ask = async () => (await run('dig', ['@127.0.0.1', '-p', String(port), 'mx.edit.test', 'A', '+short'])).stdout.trim();

  it('serves an edited zone file without a restart, and keeps the last good zones when an edit does not parse', async () => {
    assert.equal(await ask(), '172.28.0.50');
    let reloaded = server.reloaded();
    await writeFile(path.join(dir, 'edit.test.zone'), zone('172.28.0.51'));
    await reloaded;
    assert.equal(await ask(), '172.28.0.51');
    reloaded = server.reloaded();
    await writeFile(path.join(dir, 'edit.test.zone'), 'this is not a zone\n');
    await reloaded;
    assert.equal(await ask(), '172.28.0.51');
  });
});

describe('services/dns/main.ts', () => {
  it('names the taken port and exits non-zero', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(
        execFileAsync(process.execPath, [MAIN], { env: { ...process.env, DNS_LISTEN: `127.0.0.1:${taken}`, LOG_LEVEL: 'silent' }, timeout: 10_000 }),
        (error: { code?: number; stderr?: string }) => {
          assert.equal(error.code, 2, 'exit 2: the operator must move the port');
          assert.match(error.stderr ?? '', new RegExp(`127\\.0\\.0\\.1:${taken}/tcp: the port is already taken`));
          return true;
        },
      );
    } finally {
      blocker.close();
    }
  });

  it('serves, then stops cleanly on SIGTERM', async () => {
    const child = spawn(process.execPath, [MAIN], { env: { ...process.env, DNS_LISTEN: '127.0.0.1:0', LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const listening = await new Promise<{ udp: { port: number }[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "dns listening" line: ${output}`)), 10_000);
      child.stdout.on('data', () => {
        const line = output.split('\n').find((text) => text.includes('dns listening'));
        if (line !== undefined) {
          clearTimeout(timer);
          resolve(JSON.parse(line) as { udp: { port: number }[] });
        }
      });
    });
    const resolver = new Resolver({ timeout: 2000, tries: 1 });
    resolver.setServers([`127.0.0.1:${listening.udp[0]?.port}`]);
    assert.deepEqual(await resolver.resolve4('mx.alpha.test'), ['127.28.0.10']);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  });
});
