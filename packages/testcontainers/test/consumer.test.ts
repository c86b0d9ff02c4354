/**
 * The consumer test (issue 17): the module as another project gets it. Packs it (its
 * prepack builds the JavaScript and .d.ts), makes a fresh project in a temporary folder
 * outside this checkout, installs the tarball and testcontainers there from the registry,
 * writes the test file the README shows (between its consumer-test markers) and runs it
 * with node:test, as two files at once (two labs from two test processes). Needs Docker
 * and the agents' image (scripts/build-agents-image.sh).
 *   npm run test:consumer
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const REPO_DIR = join(PACKAGE_DIR, '..', '..');
const README_BEGIN = '<!-- consumer-test:begin -->';
const README_END = '<!-- consumer-test:end -->';
const STEP_TIMEOUT_MS = 15 * 60_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env, timeout: STEP_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function must(command: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<string> {
  const result = await run(command, args, cwd, env);
  assert.equal(result.code, 0, `${command} ${args.join(' ')} in ${cwd} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

/** The ```js block between the README's consumer-test markers, as written. */
export function readmeExample(readme: string): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  assert.ok(begin >= 0 && end > begin, 'the README has its consumer-test markers');
  const block = /```js\n([\s\S]*?)```/u.exec(readme.slice(begin, end));
  assert.ok(block?.[1], 'a ```js block between the markers');
  return block[1];
}

test('a fresh project installs the packed module and runs the README example, from two test files at once', { timeout: 30 * 60_000 }, async () => {
  const project = await mkdtemp(join(tmpdir(), 'mxlab-consumer-'));
  assert.ok(relative(REPO_DIR, project).startsWith('..'), `${project} is outside the checkout`);
  try {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = JSON.parse(await must(npm, ['pack', '--json', '--pack-destination', project], PACKAGE_DIR)) as { filename: string; files: { path: string }[] }[];
    const tarball = packed[0];
    assert.ok(tarball, 'npm pack made a tarball');
    const files = tarball.files.map((file) => file.path);
    for (const needed of ['dist/index.js', 'dist/index.d.ts', 'compose/lab.yaml', 'README.md', 'package.json']) {
      assert.ok(files.includes(needed), `the tarball holds ${needed} (it holds ${files.join(', ')})`);
    }
    assert.ok(!files.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), 'no TypeScript source: Node does not strip types under node_modules');

    const rootPackage = JSON.parse(await readFile(join(REPO_DIR, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
    await writeFile(join(project, 'package.json'), `${JSON.stringify({ name: 'mxlab-consumer', private: true, type: 'module' }, null, 2)}\n`);
    await must(npm, ['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, tarball.filename), `testcontainers@${rootPackage.devDependencies.testcontainers}`], project);

    // The README's file, and a copy of it: node:test runs each file in a process of its
    // own, at the same time, so two labs start at once from two test files.
    const example = readmeExample(await readFile(join(PACKAGE_DIR, 'README.md'), 'utf8'));
    await writeFile(join(project, 'mail.test.mjs'), example);
    await writeFile(join(project, 'mail-again.test.mjs'), example);
    // Without NODE_TEST_CONTEXT, which would make the child a subtest runner that skips its files.
    const { NODE_TEST_CONTEXT: _context, ...env } = process.env;
    const result = await run(
      process.execPath,
      ['--test', '--test-concurrency=2', '--test-reporter=tap', 'mail.test.mjs', 'mail-again.test.mjs'],
      project,
      { ...env, TESTCONTAINERS_RYUK_DISABLED: 'true' },
    );
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
    assert.equal(result.code, 0, 'the README example passes in the fresh project, twice at once');
    assert.match(result.stdout, /# pass 6\b/u);
    assert.match(result.stdout, /# fail 0\b/u);
  } finally {
    await rm(project, { recursive: true, force: true });
  }
});
