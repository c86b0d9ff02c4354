import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadMuaConfig } from './config.ts';

describe('MUA config', () => {
  it('has the contract defaults', () => {
    const config = loadMuaConfig({});
    assert.deepEqual(config.listen, [{ host: '0.0.0.0', port: 8080 }]);
    assert.deepEqual(config.dnsServer, { host: '172.28.0.2', port: 53 });
    assert.equal(config.fallback.size, 0);
    assert.equal(config.tlsDir, '/var/lib/mxlab/tls');
    assert.ok(config.sessionSecret.length >= 32, 'a random secret when none is set');
    assert.notEqual(loadMuaConfig({}).sessionSecret, config.sessionSecret);
    assert.ok(loadMuaConfig({ MUA_SESSION_SECRET: '' }).sessionSecret.length >= 32, 'empty means unset');
  });

  it('reads every MUA variable', () => {
    const config = loadMuaConfig({
      MUA_LISTEN: '127.0.0.1:8080,127.28.0.6:8080',
      MUA_DNS_SERVER: '127.28.0.2:53',
      MUA_FALLBACK: 'alpha.test=imap@127.28.0.12:143;submission@127.28.0.10:587, beta.test=imap@imap.beta.test',
      MUA_SESSION_SECRET: 'a-secret-of-sufficient-length',
      MXLAB_TLS_DIR: '/tmp/tls',
    });
    assert.equal(config.listen.length, 2);
    assert.deepEqual(config.fallback.get('alpha.test')?.submission, { host: '127.28.0.10', port: 587 });
    assert.deepEqual(config.fallback.get('beta.test')?.imap, { host: 'imap.beta.test', port: 143 });
    assert.equal(config.sessionSecret, 'a-secret-of-sufficient-length');
  });

  it('names the bad variable', () => {
    assert.throws(() => loadMuaConfig({ MUA_FALLBACK: 'alpha.test=ftp@x:21' }), /MUA_FALLBACK/u);
    assert.throws(() => loadMuaConfig({ MUA_SESSION_SECRET: 'short' }), /MUA_SESSION_SECRET/u);
  });
});
