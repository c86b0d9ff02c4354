/**
 * Newcomers (issue 17, item 6): the lab's npm scripts go through scripts/node24.mjs, so
 * Node 20 (this machine kind's own) gets a sentence and Node 24 instead of
 * ERR_UNKNOWN_FILE_EXTENSION ".ts".
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./node24.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

function run(node: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(node, [SCRIPT, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Another Node on this machine (Debian's 20 on this machine kind). */
function olderNode(): string | undefined {
  for (const path of ['/usr/bin/node', '/usr/local/bin/node', '/bin/node']) {
    if (existsSync(path) && path !== process.execPath) return path;
  }
  return undefined;
}

describe('scripts/node24.mjs', () => {
  it('runs the command with this Node when it is new enough, silently, passing the exit code on', async () => {
    const ok = await run(process.execPath, ['-p', 'process.versions.node']);
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout.trim(), process.versions.node);
    assert.equal(ok.stderr, '');
    const failing = await run(process.execPath, ['-e', 'process.exit(3)']);
    assert.equal(failing.code, 3);
  });

  it('on an older Node says why and runs the command with Node 24 from .tools', async (t) => {
    const old = olderNode();
    const version = old ? (await new Promise<string>((resolve) => execFile(old, ['-p', 'process.versions.node'], (_e, out) => resolve(String(out).trim())))) : '';
    const major = Number(version.split('.')[0]);
    if (!old || !(major < 22)) {
      t.diagnostic(`no Node older than 22 here (${old ?? 'none'} ${version}): only the new-enough path was checked`);
      return;
    }
    const result = await run(old, ['-p', 'process.versions.node']);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout.trim(), /^24\./u);
    assert.match(result.stderr, new RegExp(`this is Node v${version.replaceAll('.', '\\.')}; the lab runs its TypeScript sources and needs Node 22\\.18 or newer`, 'u'));
    assert.match(result.stderr, /export PATH=".*\.tools\/node\/bin:\$PATH"/u);
  });

  it('is what npm start and the lab commands run', () => {
    const scripts = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'lab', 'users', 'queue', 'chaos', 'exercise', 'bench']) {
      assert.match(scripts[name] ?? '', /^node scripts\/node24\.mjs /u, name);
    }
  });
});
