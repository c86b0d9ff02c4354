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

/**
 * The MRA holds a whole mailbox's records (100k messages for the big-mailbox benchmark);
 * V8's young generation would otherwise grow to 64 MB per semi-space on a machine with
 * much memory, all of it resident after one big SELECT (bench/FINDINGS.md).
 */
export const MRA_NODE_OPTIONS: readonly string[] = ['--max-semi-space-size=8'];

/**
 * Every agent's entry point and node flags (scripts/lab-plan.ts and compose.yaml run
 * these). Node keeps one cache per set of V8 flags and per uid, so the cache is filled
 * with each agent's own flags, by the user that runs the agents.
 */
export const AGENT_PROGRAMS: ReadonlyArray<{ entry: string; nodeOptions: readonly string[] }> = [
  { entry: 'services/dns/main.ts', nodeOptions: [] },
  { entry: 'services/caller/main.ts', nodeOptions: [] },
  { entry: 'services/mda/main.ts', nodeOptions: [] },
  { entry: 'services/mra/main.ts', nodeOptions: MRA_NODE_OPTIONS },
  { entry: 'services/mta/main.ts', nodeOptions: [] },
  { entry: 'services/mua/main.ts', nodeOptions: [] },
  // compose's one-shot certs service, before every TLS agent: on the start's critical path.
  { entry: 'scripts/lab-certs.ts', nodeOptions: [] },
];

/** The node flags an agent entry runs with (none for an entry not in AGENT_PROGRAMS). */
export function nodeOptionsOf(entry: string): readonly string[] {
  return AGENT_PROGRAMS.find((program) => program.entry === entry)?.nodeOptions ?? [];
}

export function compileCacheDir(root: string): string {
  return join(root, 'node_modules', '.cache', 'mxlab-compile');
}

function compileOnly(root: string, { entry, nodeOptions }: (typeof AGENT_PROGRAMS)[number], cacheDir: string): Promise<void> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_COMPILE_CACHE: cacheDir, [COMPILE_ONLY_VARIABLE]: '1' };
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeOptions, join(root, entry)], { cwd: root, env, timeout: 60_000 }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`compile cache: ${entry} failed to load: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });
}

/** Loads every agent entry into the cache; a file already cached and unchanged costs little. */
export async function warmCompileCache(root: string, cacheDir = compileCacheDir(root)): Promise<void> {
  await Promise.all(AGENT_PROGRAMS.map((program) => compileOnly(root, program, cacheDir)));
}

if (import.meta.main) {
  const root = join(import.meta.dirname, '..');
  const cacheDir = process.env.NODE_COMPILE_CACHE ?? compileCacheDir(root);
  await warmCompileCache(root, cacheDir);
  process.stdout.write(`compile cache: ${AGENT_PROGRAMS.length} agent programs loaded into ${cacheDir}\n`);
}
