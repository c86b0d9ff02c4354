import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import tls from 'node:tls';
import { ensureServerCertificate } from './tls.ts';

describe('lab TLS', () => {
  it('makes one CA and a server certificate that a client verifies by name', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-tls-'));
    const [a, b] = await Promise.all([
      ensureServerCertificate(dir, 'alpha-mta', ['mx.alpha.test', 'smtp.alpha.test', '127.0.0.1']),
      ensureServerCertificate(dir, 'beta-mx1', ['mx1.beta.test']),
    ]);
    assert.equal(a.ca, b.ca);
    const again = await ensureServerCertificate(dir, 'alpha-mta', ['mx.alpha.test']);
    assert.equal(again.cert, a.cert, 'reused after first start');

    const server = tls.createServer({ cert: a.cert, key: a.key }, (socket) => socket.end('hi'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as { port: number };
    const socket = tls.connect({ host: '127.0.0.1', port, servername: 'mx.alpha.test', ca: a.ca });
    await once(socket, 'secureConnect');
    assert.equal(socket.authorized, true);
    socket.destroy();
    server.close();
  });
});
