import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AGENT_PROGRAMS, MRA_NODE_OPTIONS, warmCompileCache } from './compile-cache.ts';

const root = join(import.meta.dirname, '..');

async function filesUnder(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((entry) => entry.isFile()).map((entry) => entry.name);
}

describe('compile cache', () => {
  it('loads every agent entry into the cache without starting any agent', async () => {
    const base = await mkdtemp(join(tmpdir(), 'mxlab-compile-'));
    try {
      const cache = join(base, 'cache');
      await warmCompileCache(root, cache);
      const files = await filesUnder(cache);
      // One entry per module: far more than the entries themselves (their imports are in too).
      assert.ok(files.length > AGENT_PROGRAMS.length * 5, `only ${files.length} files cached`);

      // An agent asked to compile only exits 0 at once, before reading its config or touching a directory.
      const state = join(base, 'state');
      const env = { PATH: process.env.PATH ?? '', MXLAB_COMPILE_ONLY: '1', LOG_LEVEL: 'not-a-level', MXLAB_TLS_DIR: join(state, 'tls'), MXLAB_USERS_DIR: join(state, 'users') };
      const code = await new Promise<number>((resolve) => {
        execFile(process.execPath, [join(root, 'services/mra/main.ts')], { env, timeout: 30_000 }, (error) => resolve(error ? Number(error.code ?? 1) : 0));
      });
      assert.equal(code, 0);
      await assert.rejects(readdir(state), { code: 'ENOENT' });
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });

  it('compose.yaml runs every agent with the node flags the cache was filled with', async () => {
    const compose = await readFile(join(root, 'compose.yaml'), 'utf8');
    const commands = [...compose.matchAll(/command: \[("node".*)\]/gu)].map((match) => JSON.parse(`[${match[1]}]`) as string[]);
    assert.ok(commands.length >= 9, `found ${commands.length} node commands`);
    for (const command of commands) {
      // node [flags…] <entry>.ts [arguments…] (the certs service: scripts/lab-certs.ts compose)
      const at = command.findIndex((part) => part.endsWith('.ts'));
      const entry = command[at] ?? command.join(' ');
      const program = AGENT_PROGRAMS.find((item) => item.entry === entry);
      assert.ok(program, `compose runs ${entry}, which is not in AGENT_PROGRAMS`);
      assert.deepEqual(command.slice(1, at), [...program.nodeOptions], entry);
    }
    assert.ok(commands.some((command) => command.includes(MRA_NODE_OPTIONS[0] ?? '-')));
  });
});
