import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../shared/config.ts';
import { loadMtaConfig } from './config.ts';

describe('MTA config', () => {
  it('has the contract defaults of services/ENV.md', () => {
    const config = loadMtaConfig({});
    assert.equal(config.MTA_NAME, 'alpha-mta');
    assert.equal(config.MTA_HOSTNAME, 'mx.alpha.test');
    assert.deepEqual(config.MTA_LOCAL_DOMAINS, ['alpha.test']);
    assert.deepEqual(config.MTA_RELAY_DOMAINS, []);
    assert.deepEqual(config.MTA_SMTP_LISTEN, [{ host: '0.0.0.0', port: 25 }]);
    assert.deepEqual(config.MTA_SUBMISSION_LISTEN, [{ host: '0.0.0.0', port: 587 }]);
    assert.deepEqual(config.MTA_SUBMISSIONS_LISTEN, [{ host: '0.0.0.0', port: 465 }]);
    assert.deepEqual(config.MTA_ADMIN_LISTEN, [{ host: '0.0.0.0', port: 8026 }]);
    assert.deepEqual(config.MTA_DNS_SERVER, { host: '172.28.0.2', port: 53 });
    assert.deepEqual(config.MTA_LMTP, { host: '172.28.0.11', port: 24 });
    assert.equal(config.MTA_OUTBOUND_PORT, 25);
    assert.equal(config.MTA_CALLER_URL, null);
    assert.equal(config.MTA_CALLER_FAIL_OPEN, false);
    assert.equal(config.MTA_SPAM_TAG_SCORE, 5);
    assert.equal(config.MTA_SPAM_REJECT_SCORE, null);
  });

  it('reads lists, empty listeners, scores and the caller URL', () => {
    const config = loadMtaConfig({
      MTA_SMTP_LISTEN: '127.0.0.1:2525, 127.0.0.2:25',
      MTA_SUBMISSION_LISTEN: '',
      MTA_LOCAL_DOMAINS: '',
      MTA_RELAY_DOMAINS: 'Beta.Test',
      MTA_TLS_NAMES: 'smtp.beta.test,127.0.0.1',
      MTA_CALLER_URL: 'http://127.28.0.5:8025/',
      MTA_CALLER_FAIL_OPEN: 'true',
      MTA_SPAM_REJECT_SCORE: '10',
    });
    assert.deepEqual(config.MTA_SMTP_LISTEN, [{ host: '127.0.0.1', port: 2525 }, { host: '127.0.0.2', port: 25 }]);
    assert.deepEqual(config.MTA_SUBMISSION_LISTEN, []);
    assert.deepEqual(config.MTA_LOCAL_DOMAINS, []);
    assert.deepEqual(config.MTA_RELAY_DOMAINS, ['beta.test']);
    assert.deepEqual(config.MTA_TLS_NAMES, ['smtp.beta.test', '127.0.0.1']);
    assert.equal(config.MTA_CALLER_URL, 'http://127.28.0.5:8025');
    assert.equal(config.MTA_CALLER_FAIL_OPEN, true);
    assert.equal(config.MTA_SPAM_REJECT_SCORE, 10);
  });

  it('names a bad variable', () => {
    assert.throws(() => loadMtaConfig({ MTA_SMTP_LISTEN: 'nope:port' }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /MTA_SMTP_LISTEN/u);
      return true;
    });
    assert.throws(() => loadMtaConfig({ MTA_SPAM_REJECT_SCORE: 'high' }), /MTA_SPAM_REJECT_SCORE/u);
    assert.throws(() => loadMtaConfig({ MTA_CALLER_URL: 'ftp://x' }), /MTA_CALLER_URL/u);
  });
});
