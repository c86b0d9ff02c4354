/**
 * Node's compile cache (NODE_COMPILE_CACHE) for the agents: the type-stripped sources and
 * their V8 code, kept on disk. An agent whose modules are all in it never loads Node's
 * TypeScript stripper (about 30 MB of resident memory per process) and starts faster.
 *
 * `warmCompileCache` starts each agent entry once with MXLAB_COMPILE_ONLY=1: the entry's
 * static imports load (and so cache) every module, then runAgent exits before the agent
 * does anything. The launcher runs it before starting the lab; the Dockerfile runs this
 * file at build time (`node scripts/compile-cache.ts`), so containers start warm.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { COMPILE_ONLY_VARIABLE } from '../shared/agent.ts';

/** Every agent's entry point (scripts/lab-plan.ts and compose.yaml run these). */
export const AGENT_ENTRIES = ['dns/main.ts', 'services/caller/main.ts', 'services/mda/main.ts', 'services/mra/main.ts', 'services/mta/main.ts', 'services/mua/main.ts'] as const;

export function compileCacheDir(root: string): string {
  return join(root, 'node_modules', '.cache', 'mxlab-compile');
}

function compileOnly(root: string, entry: string, cacheDir: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_COMPILE_CACHE: cacheDir, [COMPILE_ONLY_VARIABLE]: '1' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(root, entry)], { cwd: root, env, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`compile cache: ${entry} failed to load: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** Loads every agent entry into the cache; a file already cached and unchanged costs little. */
export async function warmCompileCache(root: string, cacheDir = compileCacheDir(root)): Promise<void> {
  await Promise.all(AGENT_ENTRIES.map((entry) => compileOnly(root, entry, cacheDir)));
}

if (import.meta.main) {
  const root = join(import.meta.dirname, '..');
  const cacheDir = process.env.NODE_COMPILE_CACHE ?? compileCacheDir(root);
  await warmCompileCache(root, cacheDir);
  process.stdout.write(`compile cache: ${AGENT_ENTRIES.length} agent entries loaded into ${cacheDir}\n`);
}
