import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Signer, readCookies, cookieHeader } from './csrf.ts';
import { LoginLimiter, MAX_FAILURES_PER_ACCOUNT } from './rate-limit.ts';

describe('session cookies and CSRF tokens', () => {
  const signer = new Signer('a-test-secret-that-is-long-enough');

  it('accepts only its own signed cookies', () => {
    const id = signer.newId();
    assert.equal(signer.idFromCookie(signer.cookieValue(id)), id);
    assert.equal(signer.idFromCookie(`${id}.forged`), undefined);
    assert.equal(signer.idFromCookie(new Signer('another-secret-entirely-000').cookieValue(id)), undefined);
    assert.equal(signer.idFromCookie(undefined), undefined);
  });

  it('binds the CSRF token to the session id', () => {
    const id = signer.newId();
    const token = signer.csrfToken(id);
    assert.equal(signer.checkCsrf(id, token), true);
    assert.equal(signer.checkCsrf(signer.newId(), token), false);
    assert.equal(signer.checkCsrf(id, undefined), false);
    assert.equal(signer.checkCsrf(undefined, token), false);
    assert.equal(signer.checkCsrf(id, token.slice(1)), false);
  });

  it('writes HttpOnly SameSite=Strict cookies and reads them back', () => {
    const header = cookieHeader('mua_session', 'abc.def', 60, false);
    assert.match(header, /HttpOnly/u);
    assert.match(header, /SameSite=Strict/u);
    assert.equal(readCookies('a=1; mua_session=abc.def').get('mua_session'), 'abc.def');
  });

  it('ignores a cookie it cannot decode and keeps the others (RFC 6265 §5.2)', () => {
    const cookies = readCookies('mua_session=%E0%A4%A; other=%; mua_pre=x.y');
    assert.equal(cookies.get('mua_session'), undefined);
    assert.equal(cookies.get('other'), undefined);
    assert.equal(cookies.get('mua_pre'), 'x.y');
  });
});

describe('login rate limit', () => {
  it('refuses an account after too many failures, for the rest of the window', () => {
    let now = 1_000_000;
    const limiter = new LoginLimiter(() => now);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i += 1) {
      assert.equal(limiter.begin('127.0.0.1', 'alice@alpha.test'), 0);
    }
    assert.ok(limiter.retryAfter('127.0.0.1', 'Alice@alpha.test') > 0);
    assert.equal(limiter.retryAfter('127.0.0.1', 'bob@beta.test'), 0);
    now += 16 * 60_000;
    assert.equal(limiter.retryAfter('127.0.0.1', 'alice@alpha.test'), 0);
  });

  it('counts an attempt when it begins; a success or an attempt that checked nothing is uncounted', () => {
    const limiter = new LoginLimiter(() => 1_000_000);
    for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT - 1; i += 1) assert.equal(limiter.begin('10.0.0.1', 'bob@beta.test'), 0);
    assert.equal(limiter.begin('10.0.0.2', 'bob@beta.test'), 0);
    limiter.forgive('10.0.0.2', 'bob@beta.test');
    assert.equal(limiter.begin('10.0.0.3', 'bob@beta.test'), 0);
    assert.ok(limiter.begin('10.0.0.4', 'bob@beta.test') > 0, 'the fifth counted attempt closes the account');
    limiter.succeed('10.0.0.3', 'bob@beta.test');
    assert.equal(limiter.begin('10.0.0.4', 'bob@beta.test'), 0);
  });
});
