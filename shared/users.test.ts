import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ensureLabUsers, UserDirectory } from './users.ts';

describe('UserDirectory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mxlab-users-'));
  await Promise.all([ensureLabUsers(dir, 'secret'), ensureLabUsers(dir, 'secret')]);
  const users = new UserDirectory(dir);

  it('stores scrypt hashes, never the password', async () => {
    const text = await readFile(join(dir, 'alpha.test.json'), 'utf8');
    assert.match(text, /scrypt\$/);
    assert.doesNotMatch(text, /secret/);
    assert.deepEqual((await readdir(dir)).sort(), ['alpha.test.json', 'beta.test.json']);
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
});
