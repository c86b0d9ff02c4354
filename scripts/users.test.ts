import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { UserDirectory } from '../shared/users.ts';
import { feedStdin } from '../shared/testing/processes.ts';

const script = join(import.meta.dirname, 'users.ts');

function run(dir: string, args: string[], input = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [script, ...args], { env: { ...process.env, MXLAB_USERS_DIR: dir } }, (error, stdout, stderr) =>
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    feedStdin(child, input);
  });
}

describe('npm run users', () => {
  it('adds a user with a hash, aliases and lists it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-users-cli-'));
    assert.equal((await run(dir, ['add', 'Dave@Alpha.test'], 'hunter22\n')).code, 0);
    assert.equal((await run(dir, ['alias', 'ops@alpha.test', 'dave@alpha.test'])).code, 0);
    const text = await readFile(join(dir, 'alpha.test.json'), 'utf8');
    assert.doesNotMatch(text, /hunter22/);
    const users = new UserDirectory(dir);
    assert.equal((await users.authenticate('ops@alpha.test', 'hunter22'))?.address, 'dave@alpha.test');
    const listed = await run(dir, ['list']);
    assert.match(listed.stdout, /dave@alpha\.test\nops@alpha\.test -> dave@alpha\.test/);
  });

  it('refuses a path-escaping address and a duplicate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mxlab-users-cli-'));
    const bad = await run(dir, ['add', '../x@alpha.test'], 'hunter22\n');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /local part/);
    await run(dir, ['add', 'e@alpha.test'], 'hunter22\n');
    assert.equal((await run(dir, ['add', 'e@alpha.test'], 'hunter22\n')).code, 2);
  });
});
