import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LAB_DOMAINS } from './lab.ts';
import { DEFAULT_PARAMS, paramsOf } from './passwords.ts';
import { dummyHashFor, ensureLabUsers, readDomainFile, UserDirectory } from './users.ts';

describe('UserDirectory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-users-'));
  await Promise.all([ensureLabUsers(dir, 'secret'), ensureLabUsers(dir, 'secret')]);
  const users = new UserDirectory(dir);

  it('stores scrypt hashes, never the password', async () => {
    const text = await readFile(join(dir, 'alpha.test.json'), 'utf8');
    assert.match(text, /scrypt\$/);
    assert.doesNotMatch(text, /secret/);
    assert.deepEqual((await readdir(dir)).sort(), LAB_DOMAINS.map((domain) => `${domain}.json`).sort());
  });

  it('authenticates with the right password only', async () => {
    assert.equal((await users.authenticate('alice@alpha.test', 'secret'))?.address, 'alice@alpha.test');
    assert.equal((await users.authenticate('ALICE@Alpha.Test', 'secret'))?.address, 'alice@alpha.test');
    assert.equal(await users.authenticate('alice@alpha.test', 'wrong'), undefined);
    assert.equal(await users.authenticate('nobody@alpha.test', 'secret'), undefined);
    assert.equal((await users.authenticate('alice@alpha.test', 'secret'))?.address, 'alice@alpha.test');
  });

  it('resolves postmaster to the first user of the domain', async () => {
    assert.equal((await users.resolve('postmaster@beta.test'))?.address, 'bob@beta.test');
    assert.equal((await users.resolve('carol@beta.test'))?.address, 'carol@beta.test');
    assert.equal(await users.resolve('dave@beta.test'), undefined);
    const bob = await users.resolve('bob@beta.test');
    assert.ok(bob);
    assert.deepEqual(await users.addressesOf(bob), ['bob@beta.test', 'postmaster@beta.test']);
  });

  it('has no users or aliases named after Object.prototype members', async () => {
    for (const local of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      assert.equal(await users.resolve(`${local}@alpha.test`), undefined, local);
      assert.equal(await users.authenticate(`${local}@alpha.test`, 'secret'), undefined, local);
    }
  });

  it('checks unknown users against a dummy hash as costly as the real ones', async () => {
    const file = await readDomainFile(dir, 'alpha.test');
    assert.ok(file);
    const real = paramsOf(file.users.alice?.password ?? '');
    assert.deepEqual(real, DEFAULT_PARAMS);
    assert.deepEqual(paramsOf(dummyHashFor(file)), real);
    const older = { ...file, users: { alice: { password: 'scrypt$16384$8$2$AAAA$AAAA' } } };
    assert.deepEqual(paramsOf(dummyHashFor(older)), { N: 16384, r: 8, p: 2 });
    assert.deepEqual(paramsOf(dummyHashFor(undefined)), DEFAULT_PARAMS);
  });
});
