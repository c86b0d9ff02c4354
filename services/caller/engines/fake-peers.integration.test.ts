import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { encodeScanRequest, scanVerdictSchema, type ScanVerdict } from '../../../shared/caller-api.ts';
import { loadCallerConfig } from '../config.ts';
import { startCaller } from '../server.ts';
import { message, scanInput, scanRequest } from '../testing/messages.ts';
import { createClamdEngine } from './clamd.ts';
import { runEngine } from './engine.ts';
import { createSpamdEngine } from './spamd.ts';
import { freePort } from '../../../shared/free-port.ts';

const TIMEOUT_MS = 300;

/** A raw TCP peer scripted per connection; remembers what it received. */
interface FakePeer {
  port: number;
  close(): Promise<void>;
  /** Connections whose client side has closed (or half-closed). */
  ended: number;
}

async function fakePeer(onConnection: (socket: net.Socket, received: () => Buffer) => void): Promise<FakePeer> {
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: a client's half-close (spamc style) must not close the peer's side.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('end', () => peer.ended++);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    onConnection(socket, () => Buffer.concat(chunks));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const peer: FakePeer = {
    port: (server.address() as net.AddressInfo).port,
    ended: 0,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return peer;
}


describe('engines against scripted peers', () => {
  let hang: FakePeer;
  let garbage: FakePeer;
  let clamdLike: FakePeer;
  let clamdReceived: Buffer = Buffer.alloc(0);

  before(async () => {
    hang = await fakePeer(() => undefined);
    garbage = await fakePeer((socket) => socket.on('data', () => socket.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
    clamdLike = await fakePeer((socket, received) => {
      socket.on('data', () => {
        const data = received();
        // Reply once the zero-length chunk that ends INSTREAM has arrived.
        if (data.length >= 14 && data.subarray(-4).equals(Buffer.alloc(4))) {
          clamdReceived = data;
          socket.end('stream: Fake.Virus FOUND\0');
        }
      });
    });
  });
  after(async () => {
    await Promise.all([hang.close(), garbage.close(), clamdLike.close()]);
  });

  it('sends INSTREAM frames clamd understands and reads the verdict', async () => {
    const raw = message('x'.repeat(70_000));
    const result = await runEngine(createClamdEngine({ host: '127.0.0.1', port: clamdLike.port }), scanInput(raw), 2000);
    assert.equal(result.status, 'infected');
    assert.deepEqual(result.viruses, ['Fake.Virus']);
    assert.equal(clamdReceived.subarray(0, 10).toString('latin1'), 'zINSTREAM\0');
    assert.equal(clamdReceived.readUInt32BE(10), 65536);
    assert.equal(clamdReceived.length, 10 + 4 + 65536 + 4 + (raw.length - 65536) + 4);
  });

  it('times out clamd and spamd that accept and never answer, closing the sockets', async () => {
    for (const engine of [createClamdEngine({ host: '127.0.0.1', port: hang.port }), createSpamdEngine({ host: '127.0.0.1', port: hang.port })]) {
      const started = Date.now();
      const result = await runEngine(engine, scanInput(message('hi')), TIMEOUT_MS);
      assert.equal(result.status, 'timeout', engine.name);
      assert.ok(Date.now() - started < TIMEOUT_MS + 500, `${engine.name} took ${Date.now() - started} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(hang.ended, 2, 'the engines closed their connections');
  });

  it('reports garbage replies and refused connections as engine errors', async () => {
    const clamd = await runEngine(createClamdEngine({ host: '127.0.0.1', port: garbage.port }), scanInput(message('hi')), 2000);
    assert.equal(clamd.status, 'error');
    assert.match(clamd.detail ?? '', /HTTP\/1\.1 400/);
    const spamd = await runEngine(createSpamdEngine({ host: '127.0.0.1', port: garbage.port }), scanInput(message('hi')), 2000);
    assert.equal(spamd.status, 'error');
    assert.match(spamd.detail ?? '', /unexpected reply/);
    const refused = await runEngine(createClamdEngine({ host: '127.0.0.1', port: await freePort() }), scanInput(message('hi')), 2000);
    assert.equal(refused.status, 'error');
    assert.match(refused.detail ?? '', /ECONNREFUSED/);
  });

  it('answers tempfail 451 4.7.1 over HTTP within the engine timeout when clamd hangs', async () => {
    const caller = await startCaller(
      loadCallerConfig({ CALLER_LISTEN: '127.0.0.1:0', CALLER_DNS_SERVER: '127.0.0.1:1', CALLER_CLAMD: `127.0.0.1:${hang.port}`, CALLER_ENGINE_TIMEOUT_MS: String(TIMEOUT_MS) }),
    );
    try {
      const started = Date.now();
      const response = await fetch(`http://127.0.0.1:${caller.http[0]?.port}/v1/scan`, {
        method: 'POST',
        headers: { 'x-mxlab-scan': encodeScanRequest(scanRequest()) },
        body: message('hi'),
      });
      const verdict: ScanVerdict = scanVerdictSchema.parse(await response.json());
      assert.ok(Date.now() - started < TIMEOUT_MS + 1000, `took ${Date.now() - started} ms`);
      assert.equal(verdict.action, 'tempfail');
      assert.deepEqual({ code: verdict.smtp?.code, enhanced: verdict.smtp?.enhanced }, { code: 451, enhanced: '4.7.1' });
      assert.equal(verdict.engines.find((result) => result.engine === 'clamd')?.status, 'timeout');
    } finally {
      await caller.close();
    }
  });
});
